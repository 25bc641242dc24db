-- The seed's denormalizedStudents: each student with the names of their university and course.
-- A student whose university or course is not in its table keeps a null name (left joins).
-- materialized: table
-- unique_key: id
SELECT s.id, s.registereddate AS date, s.state, s.city, u.name AS university, c.name AS course,
       s.signupsource AS signup_source
FROM latest_students s
LEFT JOIN (SELECT DISTINCT id, name FROM gold_universities) u ON s.universityid = u.id
LEFT JOIN (SELECT DISTINCT id, name FROM gold_courses) c ON s.courseid = c.id
