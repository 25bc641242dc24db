CREATE DATABASE IF NOT EXISTS `analytics` COMMENT 'eventlake: silver, gold and quarantine tables';

CREATE EXTERNAL TABLE IF NOT EXISTS `analytics`.`silver_account` (
  `event_uuid` string COMMENT 'Unique id of the event; the samples use digit strings, not UUIDs.',
  `event_name` string,
  `created_at` double COMMENT 'Unix seconds, integer or fractional.',
  `event_type` string COMMENT 'First segment of the event name',
  `event_subtype` string COMMENT 'Second segment of the event name, null if none',
  `created_datetime` timestamp COMMENT 'created_at as a UTC timestamp',
  `account_id` string,
  `email` string,
  `name` string,
  `age` bigint,
  `arrival_hour` timestamp COMMENT 'Start of the bronze arrival hour whose run wrote the row',
  `source_key` string COMMENT 'Bronze object key the record came from',
  `source_line` bigint COMMENT '1-based line of the record in that object'
)
COMMENT 'Validated account events, partitioned by event time; may hold re-deliveries'
PARTITIONED BY (`dt` string, `hour` string)
STORED AS PARQUET
LOCATION 's3://example-lake/prod/silver/event_type=account/'
TBLPROPERTIES (
  'projection.enabled'='true',
  'projection.dt.type'='date',
  'projection.dt.format'='yyyy-MM-dd',
  'projection.dt.range'='2020-01-01,NOW',
  'projection.dt.interval'='1',
  'projection.dt.interval.unit'='DAYS',
  'projection.hour.type'='integer',
  'projection.hour.range'='0,23',
  'projection.hour.digits'='2',
  'storage.location.template'='s3://example-lake/prod/silver/event_type=account/dt=${dt}/hour=${hour}',
  'parquet.compression'='ZSTD',
  'eventlake.managed'='true'
);

CREATE EXTERNAL TABLE IF NOT EXISTS `analytics`.`gold_account` (
  `event_uuid` string COMMENT 'Unique id of the event; the samples use digit strings, not UUIDs.',
  `event_name` string,
  `created_at` double COMMENT 'Unix seconds, integer or fractional.',
  `event_type` string COMMENT 'First segment of the event name',
  `event_subtype` string COMMENT 'Second segment of the event name, null if none',
  `created_datetime` timestamp COMMENT 'created_at as a UTC timestamp',
  `account_id` string,
  `email` string,
  `name` string,
  `age` bigint,
  `arrival_hour` timestamp COMMENT 'Start of the bronze arrival hour whose run wrote the row'
)
COMMENT 'account events, one row per event id and date'
PARTITIONED BY (`dt` string)
STORED AS PARQUET
LOCATION 's3://example-lake/prod/gold/events/event_type=account/'
TBLPROPERTIES (
  'projection.enabled'='true',
  'projection.dt.type'='date',
  'projection.dt.format'='yyyy-MM-dd',
  'projection.dt.range'='2020-01-01,NOW',
  'projection.dt.interval'='1',
  'projection.dt.interval.unit'='DAYS',
  'storage.location.template'='s3://example-lake/prod/gold/events/event_type=account/dt=${dt}',
  'parquet.compression'='ZSTD',
  'eventlake.managed'='true'
);

CREATE EXTERNAL TABLE IF NOT EXISTS `analytics`.`silver_lesson` (
  `event_uuid` string COMMENT 'Unique id of the event; the samples use digit strings, not UUIDs.',
  `event_name` string,
  `created_at` double COMMENT 'Unix seconds, integer or fractional.',
  `event_type` string COMMENT 'First segment of the event name',
  `event_subtype` string COMMENT 'Second segment of the event name, null if none',
  `created_datetime` timestamp COMMENT 'created_at as a UTC timestamp',
  `lesson_id` string,
  `completion_status` string,
  `completion_date` date,
  `title` string,
  `duration_minutes` bigint,
  `instructor` string,
  `arrival_hour` timestamp COMMENT 'Start of the bronze arrival hour whose run wrote the row',
  `source_key` string COMMENT 'Bronze object key the record came from',
  `source_line` bigint COMMENT '1-based line of the record in that object'
)
COMMENT 'Validated lesson events, partitioned by event time; may hold re-deliveries'
PARTITIONED BY (`dt` string, `hour` string)
STORED AS PARQUET
LOCATION 's3://example-lake/prod/silver/event_type=lesson/'
TBLPROPERTIES (
  'projection.enabled'='true',
  'projection.dt.type'='date',
  'projection.dt.format'='yyyy-MM-dd',
  'projection.dt.range'='2020-01-01,NOW',
  'projection.dt.interval'='1',
  'projection.dt.interval.unit'='DAYS',
  'projection.hour.type'='integer',
  'projection.hour.range'='0,23',
  'projection.hour.digits'='2',
  'storage.location.template'='s3://example-lake/prod/silver/event_type=lesson/dt=${dt}/hour=${hour}',
  'parquet.compression'='ZSTD',
  'eventlake.managed'='true'
);

CREATE EXTERNAL TABLE IF NOT EXISTS `analytics`.`gold_lesson` (
  `event_uuid` string COMMENT 'Unique id of the event; the samples use digit strings, not UUIDs.',
  `event_name` string,
  `created_at` double COMMENT 'Unix seconds, integer or fractional.',
  `event_type` string COMMENT 'First segment of the event name',
  `event_subtype` string COMMENT 'Second segment of the event name, null if none',
  `created_datetime` timestamp COMMENT 'created_at as a UTC timestamp',
  `lesson_id` string,
  `completion_status` string,
  `completion_date` date,
  `title` string,
  `duration_minutes` bigint,
  `instructor` string,
  `arrival_hour` timestamp COMMENT 'Start of the bronze arrival hour whose run wrote the row'
)
COMMENT 'lesson events, one row per event id and date'
PARTITIONED BY (`dt` string)
STORED AS PARQUET
LOCATION 's3://example-lake/prod/gold/events/event_type=lesson/'
TBLPROPERTIES (
  'projection.enabled'='true',
  'projection.dt.type'='date',
  'projection.dt.format'='yyyy-MM-dd',
  'projection.dt.range'='2020-01-01,NOW',
  'projection.dt.interval'='1',
  'projection.dt.interval.unit'='DAYS',
  'storage.location.template'='s3://example-lake/prod/gold/events/event_type=lesson/dt=${dt}',
  'parquet.compression'='ZSTD',
  'eventlake.managed'='true'
);

CREATE EXTERNAL TABLE IF NOT EXISTS `analytics`.`silver_payment` (
  `event_uuid` string COMMENT 'Unique id of the event; the samples use digit strings, not UUIDs.',
  `event_name` string,
  `created_at` double COMMENT 'Unix seconds, integer or fractional.',
  `event_type` string COMMENT 'First segment of the event name',
  `event_subtype` string COMMENT 'Second segment of the event name, null if none',
  `created_datetime` timestamp COMMENT 'created_at as a UTC timestamp',
  `order_id` string,
  `amount` double COMMENT 'In currency units, e.g. 50.00.',
  `currency` string COMMENT 'ISO 4217 code.',
  `payment_method` string,
  `status` string,
  `attributes` map<string,string> COMMENT 'Free-form order attributes, e.g. campaign and channel.',
  `refunded_at` timestamp COMMENT 'When the payment provider confirmed the refund.',
  `total` struct<`amount`:double,`currency`:string> COMMENT 'An amount in a currency.',
  `customer` struct<`id`:string,`country`:string>,
  `items` array<struct<`sku`:string,`quantity`:bigint,`price`:struct<`amount`:double,`currency`:string>>>,
  `tags` array<string>,
  `metadata` string COMMENT 'Free-form provider data, stored as JSON text.',
  `arrival_hour` timestamp COMMENT 'Start of the bronze arrival hour whose run wrote the row',
  `source_key` string COMMENT 'Bronze object key the record came from',
  `source_line` bigint COMMENT '1-based line of the record in that object'
)
COMMENT 'Validated payment events, partitioned by event time; may hold re-deliveries'
PARTITIONED BY (`dt` string, `hour` string)
STORED AS PARQUET
LOCATION 's3://example-lake/prod/silver/event_type=payment/'
TBLPROPERTIES (
  'projection.enabled'='true',
  'projection.dt.type'='date',
  'projection.dt.format'='yyyy-MM-dd',
  'projection.dt.range'='2020-01-01,NOW',
  'projection.dt.interval'='1',
  'projection.dt.interval.unit'='DAYS',
  'projection.hour.type'='integer',
  'projection.hour.range'='0,23',
  'projection.hour.digits'='2',
  'storage.location.template'='s3://example-lake/prod/silver/event_type=payment/dt=${dt}/hour=${hour}',
  'parquet.compression'='ZSTD',
  'eventlake.managed'='true'
);

CREATE EXTERNAL TABLE IF NOT EXISTS `analytics`.`gold_payment` (
  `event_uuid` string COMMENT 'Unique id of the event; the samples use digit strings, not UUIDs.',
  `event_name` string,
  `created_at` double COMMENT 'Unix seconds, integer or fractional.',
  `event_type` string COMMENT 'First segment of the event name',
  `event_subtype` string COMMENT 'Second segment of the event name, null if none',
  `created_datetime` timestamp COMMENT 'created_at as a UTC timestamp',
  `order_id` string,
  `amount` double COMMENT 'In currency units, e.g. 50.00.',
  `currency` string COMMENT 'ISO 4217 code.',
  `payment_method` string,
  `status` string,
  `attributes` map<string,string> COMMENT 'Free-form order attributes, e.g. campaign and channel.',
  `refunded_at` timestamp COMMENT 'When the payment provider confirmed the refund.',
  `total` struct<`amount`:double,`currency`:string> COMMENT 'An amount in a currency.',
  `customer` struct<`id`:string,`country`:string>,
  `items` array<struct<`sku`:string,`quantity`:bigint,`price`:struct<`amount`:double,`currency`:string>>>,
  `tags` array<string>,
  `metadata` string COMMENT 'Free-form provider data, stored as JSON text.',
  `arrival_hour` timestamp COMMENT 'Start of the bronze arrival hour whose run wrote the row'
)
COMMENT 'payment events, one row per event id and date'
PARTITIONED BY (`dt` string)
STORED AS PARQUET
LOCATION 's3://example-lake/prod/gold/events/event_type=payment/'
TBLPROPERTIES (
  'projection.enabled'='true',
  'projection.dt.type'='date',
  'projection.dt.format'='yyyy-MM-dd',
  'projection.dt.range'='2020-01-01,NOW',
  'projection.dt.interval'='1',
  'projection.dt.interval.unit'='DAYS',
  'storage.location.template'='s3://example-lake/prod/gold/events/event_type=payment/dt=${dt}',
  'parquet.compression'='ZSTD',
  'eventlake.managed'='true'
);

CREATE EXTERNAL TABLE IF NOT EXISTS `analytics`.`silver_events` (
  `event_uuid` string COMMENT 'Unique id of the event; the samples use digit strings, not UUIDs.',
  `event_name` string,
  `created_at` double COMMENT 'Unix seconds, integer or fractional.',
  `event_subtype` string COMMENT 'Second segment of the event name, null if none',
  `created_datetime` timestamp COMMENT 'created_at as a UTC timestamp',
  `arrival_hour` timestamp COMMENT 'Start of the bronze arrival hour whose run wrote the row',
  `source_key` string COMMENT 'Bronze object key the record came from',
  `source_line` bigint COMMENT '1-based line of the record in that object'
)
COMMENT 'Every silver event, envelope columns only'
PARTITIONED BY (`event_type` string, `dt` string, `hour` string)
STORED AS PARQUET
LOCATION 's3://example-lake/prod/silver/'
TBLPROPERTIES (
  'projection.enabled'='true',
  'projection.event_type.type'='enum',
  'projection.event_type.values'='account,lesson,payment',
  'projection.dt.type'='date',
  'projection.dt.format'='yyyy-MM-dd',
  'projection.dt.range'='2020-01-01,NOW',
  'projection.dt.interval'='1',
  'projection.dt.interval.unit'='DAYS',
  'projection.hour.type'='integer',
  'projection.hour.range'='0,23',
  'projection.hour.digits'='2',
  'storage.location.template'='s3://example-lake/prod/silver/event_type=${event_type}/dt=${dt}/hour=${hour}',
  'parquet.compression'='ZSTD',
  'eventlake.managed'='true'
);

CREATE EXTERNAL TABLE IF NOT EXISTS `analytics`.`gold_events` (
  `event_uuid` string COMMENT 'Unique id of the event; the samples use digit strings, not UUIDs.',
  `event_name` string,
  `created_at` double COMMENT 'Unix seconds, integer or fractional.',
  `event_subtype` string COMMENT 'Second segment of the event name, null if none',
  `created_datetime` timestamp COMMENT 'created_at as a UTC timestamp',
  `arrival_hour` timestamp COMMENT 'Start of the bronze arrival hour whose run wrote the row'
)
COMMENT 'Every gold event, envelope columns only'
PARTITIONED BY (`event_type` string, `dt` string)
STORED AS PARQUET
LOCATION 's3://example-lake/prod/gold/events/'
TBLPROPERTIES (
  'projection.enabled'='true',
  'projection.event_type.type'='enum',
  'projection.event_type.values'='account,lesson,payment',
  'projection.dt.type'='date',
  'projection.dt.format'='yyyy-MM-dd',
  'projection.dt.range'='2020-01-01,NOW',
  'projection.dt.interval'='1',
  'projection.dt.interval.unit'='DAYS',
  'storage.location.template'='s3://example-lake/prod/gold/events/event_type=${event_type}/dt=${dt}',
  'parquet.compression'='ZSTD',
  'eventlake.managed'='true'
);

CREATE EXTERNAL TABLE IF NOT EXISTS `analytics`.`daily_event_counts` (
  `event_type` string COMMENT 'First segment of the event name',
  `event_name` string COMMENT 'Event name',
  `events` bigint COMMENT 'Events in gold (distinct ids)',
  `duplicates_removed` bigint COMMENT 'Identical re-deliveries removed',
  `conflicts` bigint COMMENT 'Deliveries of a known id with other content, removed',
  `first_event_time` timestamp COMMENT 'Earliest created_datetime',
  `last_event_time` timestamp COMMENT 'Latest created_datetime',
  `late_arrivals` bigint COMMENT 'Events that arrived after their day ended'
)
COMMENT 'Per event name and event date: counts, duplicates, conflicts, lateness'
PARTITIONED BY (`dt` string)
STORED AS PARQUET
LOCATION 's3://example-lake/prod/gold/daily_event_counts/'
TBLPROPERTIES (
  'projection.enabled'='true',
  'projection.dt.type'='date',
  'projection.dt.format'='yyyy-MM-dd',
  'projection.dt.range'='2020-01-01,NOW',
  'projection.dt.interval'='1',
  'projection.dt.interval.unit'='DAYS',
  'storage.location.template'='s3://example-lake/prod/gold/daily_event_counts/dt=${dt}',
  'parquet.compression'='ZSTD',
  'eventlake.managed'='true'
);

CREATE EXTERNAL TABLE IF NOT EXISTS `analytics`.`daily_quality` (
  `records` bigint COMMENT 'Records read by the day\'s 24 hourly runs',
  `valid` bigint COMMENT 'Records written to silver',
  `quarantined` bigint COMMENT 'Records quarantined',
  `malformed_json` bigint COMMENT 'Records quarantined for this reason',
  `bad_envelope` bigint COMMENT 'Records quarantined for this reason',
  `unknown_event_name` bigint COMMENT 'Records quarantined for this reason',
  `schema_violation` bigint COMMENT 'Records quarantined for this reason',
  `out_of_window` bigint COMMENT 'Records quarantined for this reason',
  `malformed_csv` bigint COMMENT 'Records quarantined for this reason'
)
COMMENT 'Per arrival date: records read and quarantined by reason'
PARTITIONED BY (`dt` string)
STORED AS PARQUET
LOCATION 's3://example-lake/prod/gold/daily_quality/'
TBLPROPERTIES (
  'projection.enabled'='true',
  'projection.dt.type'='date',
  'projection.dt.format'='yyyy-MM-dd',
  'projection.dt.range'='2020-01-01,NOW',
  'projection.dt.interval'='1',
  'projection.dt.interval.unit'='DAYS',
  'storage.location.template'='s3://example-lake/prod/gold/daily_quality/dt=${dt}',
  'parquet.compression'='ZSTD',
  'eventlake.managed'='true'
);

CREATE EXTERNAL TABLE IF NOT EXISTS `analytics`.`quarantine` (
  `reason` string COMMENT 'malformed_json, bad_envelope, unknown_event_name, schema_violation, out_of_window or malformed_csv',
  `detail` string COMMENT 'Readable explanation',
  `pointer` string COMMENT 'JSON pointer of the first problem',
  `errors` array<struct<`pointer`:string,`keyword`:string,`message`:string>> COMMENT 'Every schema error',
  `event_name` string COMMENT 'Event name, when it could be read',
  `source_key` string COMMENT 'Bronze object',
  `line` bigint COMMENT '1-based line in the object',
  `byte_offset` bigint COMMENT 'Byte offset in the decompressed object',
  `arrival_hour` string COMMENT 'Arrival hour YYYY-MM-DDTHH',
  `record_encoding` string COMMENT 'utf8, or base64 when the bytes are not UTF-8',
  `record` string COMMENT 'The original record'
)
COMMENT 'Rejected records, byte for byte, with the reason'
PARTITIONED BY (`dt` string, `hour` string)
ROW FORMAT SERDE 'org.openx.data.jsonserde.JsonSerDe'
STORED AS INPUTFORMAT 'org.apache.hadoop.mapred.TextInputFormat'
OUTPUTFORMAT 'org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat'
LOCATION 's3://example-lake/prod/quarantine/'
TBLPROPERTIES (
  'projection.enabled'='true',
  'projection.dt.type'='date',
  'projection.dt.format'='yyyy-MM-dd',
  'projection.dt.range'='2020-01-01,NOW',
  'projection.dt.interval'='1',
  'projection.dt.interval.unit'='DAYS',
  'projection.hour.type'='integer',
  'projection.hour.range'='0,23',
  'projection.hour.digits'='2',
  'storage.location.template'='s3://example-lake/prod/quarantine/dt=${dt}/hour=${hour}',
  'eventlake.managed'='true'
);

