//! The discovery manager over static configs and watched target files.

use std::path::Path;
use std::time::Duration;

use config::{FileSdConfig, StaticConfig};
use discovery::{DiscoveryManager, JobDiscoveryConfig, TargetSets};
use model::PromDuration;
use tokio::sync::watch;

/// Waits until the published sets satisfy `cond`, failing after 10 seconds.
async fn wait_for(
    rx: &mut watch::Receiver<TargetSets>,
    what: &str,
    cond: impl Fn(&TargetSets) -> bool,
) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        if cond(&rx.borrow_and_update()) {
            return;
        }
        match tokio::time::timeout_at(deadline, rx.changed()).await {
            Ok(Ok(())) => {}
            Ok(Err(_)) => panic!("channel closed waiting for {what}"),
            Err(_) => panic!("timed out waiting for {what}; last: {:?}", *rx.borrow()),
        }
    }
}

/// Every `__address__` of a job, sorted.
fn addresses(sets: &TargetSets, job: &str) -> Vec<String> {
    let mut v: Vec<String> = sets
        .get(job)
        .into_iter()
        .flatten()
        .flat_map(|g| g.targets.iter())
        .filter_map(|t| t.get("__address__").map(str::to_string))
        .collect();
    v.sort();
    v
}

fn file_job(job: &str, pattern: &Path) -> JobDiscoveryConfig {
    JobDiscoveryConfig {
        job_name: job.into(),
        static_configs: vec![],
        file_sd_configs: vec![FileSdConfig {
            files: vec![pattern.to_string_lossy().into_owned()],
            // Long enough that only the file watch can explain a timely update.
            refresh_interval: PromDuration::from_millis(300_000),
        }],
    }
}

/// Writes `content` to `path` through a rename, as config management tools do.
fn write(path: &Path, content: &str) {
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, content).expect("write");
    std::fs::rename(&tmp, path).expect("rename");
}

#[tokio::test]
async fn static_groups_are_published_per_job() {
    let jobs = vec![JobDiscoveryConfig::from((
        "s".to_string(),
        vec![StaticConfig {
            targets: vec!["a:1".into(), "b:2".into()],
            labels: [("env".to_string(), "prod".to_string())].into(),
        }],
        vec![],
    ))];
    let m = DiscoveryManager::start(jobs, Duration::from_millis(50));
    let mut rx = m.subscribe();
    wait_for(&mut rx, "static targets", |s| {
        addresses(s, "s") == ["a:1", "b:2"]
    })
    .await;
    let sets = rx.borrow().clone();
    assert_eq!(sets["s"][0].source, "0");
    assert_eq!(sets["s"][0].labels.get("env"), Some("prod"));

    m.apply_config(vec![]);
    wait_for(&mut rx, "job removed", |s| !s.contains_key("s")).await;
    m.shutdown();
}

#[tokio::test]
async fn file_sd_reads_json_and_yaml_and_follows_changes() {
    let dir = tempfile::tempdir().expect("tempdir");
    let json = dir.path().join("a.json");
    let yaml = dir.path().join("b.yml");
    write(
        &json,
        r#"[{"targets": ["j1:80"], "labels": {"src": "json"}}]"#,
    );
    write(
        &yaml,
        "- targets: ['y1:80', 'y2:80']\n  labels:\n    src: yaml\n",
    );
    std::fs::write(dir.path().join("ignored.txt"), "x").expect("write");
    let m = DiscoveryManager::start(
        vec![
            file_job("j", &dir.path().join("*.json")),
            file_job("y", &dir.path().join("*.yml")),
        ],
        Duration::from_millis(50),
    );
    let mut rx = m.subscribe();
    wait_for(&mut rx, "initial files", |s| {
        addresses(s, "j") == ["j1:80"] && addresses(s, "y") == ["y1:80", "y2:80"]
    })
    .await;
    let sets = rx.borrow().clone();
    let g = &sets["y"][0];
    let path = yaml.to_string_lossy().into_owned();
    assert_eq!(g.source, format!("{path}:0"));
    assert_eq!(g.labels.get("__meta_filepath"), Some(path.as_str()));
    assert_eq!(g.labels.get("src"), Some("yaml"));

    // Rewritten: the new targets are seen without waiting for the refresh interval.
    write(&json, r#"[{"targets": ["j2:80"]}, {"targets": ["j3:80"]}]"#);
    wait_for(&mut rx, "rewritten file", |s| {
        addresses(s, "j") == ["j2:80", "j3:80"]
    })
    .await;

    // A new file matching the pattern joins.
    write(&dir.path().join("c.json"), r#"[{"targets": ["c:1"]}]"#);
    wait_for(&mut rx, "new file", |s| addresses(s, "j").len() == 3).await;

    // Broken: the previous targets stay.
    write(&json, "[{not json");
    write(&dir.path().join("c.json"), r#"[{"targets": ["c:2"]}]"#);
    wait_for(&mut rx, "second file changed", |s| {
        addresses(s, "j").contains(&"c:2".to_string())
    })
    .await;
    assert_eq!(addresses(&rx.borrow(), "j"), ["c:2", "j2:80", "j3:80"]);

    // Removed: its targets go.
    std::fs::remove_file(&json).expect("rm");
    wait_for(&mut rx, "removed file", |s| addresses(s, "j") == ["c:2"]).await;
    std::fs::remove_file(&yaml).expect("rm");
    wait_for(&mut rx, "removed yaml", |s| addresses(s, "y").is_empty()).await;
    m.shutdown();
}

#[tokio::test]
async fn refresh_interval_rereads_without_events() {
    let dir = tempfile::tempdir().expect("tempdir");
    let sub = dir.path().join("later");
    let pattern = sub.join("t.json");
    // The directory does not exist yet, so nothing can be watched: only the refresh finds it.
    let jobs = vec![JobDiscoveryConfig {
        job_name: "r".into(),
        static_configs: vec![],
        file_sd_configs: vec![FileSdConfig {
            files: vec![pattern.to_string_lossy().into_owned()],
            refresh_interval: PromDuration::from_millis(100),
        }],
    }];
    let m = DiscoveryManager::start(jobs, Duration::from_millis(20));
    let mut rx = m.subscribe();
    wait_for(&mut rx, "job published", |s| s.contains_key("r")).await;
    std::fs::create_dir(&sub).expect("mkdir");
    write(&pattern, r#"[{"targets": ["late:1"]}]"#);
    wait_for(&mut rx, "refreshed", |s| addresses(s, "r") == ["late:1"]).await;
    m.shutdown();
}
