-- Loan applications per arrival day, built one day at a time.
-- materialized: incremental
-- unique_key: applications_day
SELECT dt AS applications_day, count(*) AS applications, count(monthlyincome) AS with_income, dt
FROM gold_loan_applications
GROUP BY dt
