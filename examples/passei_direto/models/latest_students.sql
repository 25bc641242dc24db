-- Each student as the latest export has them: entity tables keep one row per id and date, so a
-- student exported on several days has several rows; this keeps the latest.
-- materialized: table
-- unique_key: id
SELECT id, registereddate, state, city, universityid, courseid, signupsource
FROM (
  SELECT *, row_number() OVER (PARTITION BY id ORDER BY arrival_hour DESC) AS latest
  FROM gold_students
) AS s
WHERE latest = 1
