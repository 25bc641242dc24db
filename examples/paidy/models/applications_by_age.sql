-- Loan applications by age band: how many, how many state an income, and their mean debt ratio.
-- materialized: table
-- unique_key: age_band
SELECT CAST(age / 10 * 10 AS BIGINT) AS age_band,
       count(*) AS applications,
       count(monthlyincome) AS with_income,
       avg(debtratio) AS mean_debt_ratio
FROM gold_loan_applications
GROUP BY 1
