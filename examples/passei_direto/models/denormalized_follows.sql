-- The seed's denormalizedFollows: each follow with its subject's name, one date at a time (the
-- follow's date). A late follow rebuilds its own date; lookback_days rebuilds yesterday too.
-- materialized: incremental
-- lookback_days: 1
SELECT f.studentid AS student_id, s.name AS subject, f.followdate AS date, f.dt
FROM gold_student_follow_subject f
LEFT JOIN (SELECT DISTINCT id, name FROM gold_subjects) s ON f.subjectid = s.id
