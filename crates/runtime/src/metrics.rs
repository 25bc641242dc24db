//! CloudWatch Embedded Metric Format: one JSON line per run on stdout, which the awslogs driver
//! ships and CloudWatch turns into metrics without any agent or API call.

use serde_json::{Map, Value, json};

/// A metric value with its CloudWatch unit.
#[derive(Debug, Clone, Copy)]
pub struct Metric {
    pub name: &'static str,
    pub value: f64,
    pub unit: &'static str,
}

/// Builds the EMF record: `dimensions` become both dimensions and top-level properties.
pub fn emf_record(
    namespace: &str,
    timestamp_ms: i64,
    dimensions: &[(&str, &str)],
    metrics: &[Metric],
    properties: &Map<String, Value>,
) -> Value {
    let mut root = properties.clone();
    for (k, v) in dimensions {
        root.insert((*k).to_owned(), Value::String((*v).to_owned()));
    }
    for m in metrics {
        root.insert(m.name.to_owned(), json!(m.value));
    }
    let dims: Vec<&str> = dimensions.iter().map(|(k, _)| *k).collect();
    let defs: Vec<Value> = metrics.iter().map(|m| json!({"Name": m.name, "Unit": m.unit})).collect();
    root.insert(
        "_aws".into(),
        json!({
            "Timestamp": timestamp_ms,
            "CloudWatchMetrics": [{"Namespace": namespace, "Dimensions": [dims], "Metrics": defs}]
        }),
    );
    Value::Object(root)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emf_shape() {
        let rec = emf_record(
            "eventlake",
            1,
            &[("job", "hourly")],
            &[Metric { name: "records", value: 3.0, unit: "Count" }],
            &Map::new(),
        );
        assert_eq!(rec["job"], "hourly");
        assert_eq!(rec["records"], 3.0);
        assert_eq!(rec["_aws"]["CloudWatchMetrics"][0]["Dimensions"][0][0], "job");
        assert_eq!(rec["_aws"]["CloudWatchMetrics"][0]["Metrics"][0]["Unit"], "Count");
    }
}
