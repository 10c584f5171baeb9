//! `process` over a typical metric_relabel_configs chain.

use criterion::{Criterion, black_box, criterion_group, criterion_main};
use model::Labels;
use relabel::{NameValidationScheme, RelabelConfig, process};

const CHAIN: &str = r#"
- source_labels: [__name__]
  regex: "go_gc_duration_seconds.*|process_.*"
  action: drop
- source_labels: [__name__, le]
  separator: "@"
  regex: "apiserver_request_duration_seconds_bucket@(0.15|0.25|0.35)"
  action: drop
- source_labels: [namespace, pod]
  separator: "/"
  target_label: workload
  regex: "(.+)/(.+)-[a-z0-9]+-[a-z0-9]+"
  replacement: "$1/$2"
- regex: "id|uid|name"
  action: labeldrop
- target_label: cluster
  replacement: spoke-1
- source_labels: [__address__]
  modulus: 4
  target_label: __tmp_hash
  action: hashmod
"#;

fn chain() -> Vec<RelabelConfig> {
    let mut rules: Vec<RelabelConfig> = serde_saphyr::from_str(CHAIN).expect("bench chain parses");
    for r in &mut rules {
        r.validate(NameValidationScheme::Utf8)
            .expect("bench chain is valid");
    }
    rules
}

fn bench(c: &mut Criterion) {
    let rules = chain();
    let series = Labels::from_pairs([
        ("__name__", "container_cpu_usage_seconds_total"),
        ("__address__", "10.0.3.17:10250"),
        ("container", "app"),
        ("cpu", "total"),
        ("id", "/kubepods/burstable/pod1234"),
        ("image", "registry/app:1.2.3"),
        ("instance", "node-7"),
        ("job", "kubelet"),
        ("name", "k8s_app_app-7d9f8c6b5-x2x9z"),
        ("namespace", "shop"),
        ("pod", "app-7d9f8c6b5-x2x9z"),
    ]);
    c.bench_function("process/typical_chain", |b| {
        b.iter(|| process(black_box(&series), black_box(&rules)))
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
