//! Synthetic exporters for the demo: pages shaped like node_exporter,
//! kube-state-metrics and the kubelet's cAdvisor endpoint, so that the
//! kube-prometheus rules and dashboards have the series they expect.
//!
//! Values are functions of wall-clock time: counters grow at a steady rate
//! with a little per-series wobble, gauges drift slowly, so rates and
//! dashboards show something alive without any randomness to seed.

use std::fmt::Write as _;

/// Which exporter a synthetic target imitates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// node_exporter on one node.
    NodeExporter,
    /// kube-state-metrics for the whole cluster.
    KubeStateMetrics,
    /// The kubelet's `/metrics/cadvisor` on one node.
    Cadvisor,
}

/// What a synthetic target knows about its place in the fake cluster.
#[derive(Debug, Clone)]
pub struct Target {
    /// The exporter it imitates.
    pub kind: Kind,
    /// Cluster name (only used to vary the numbers).
    pub cluster: String,
    /// Node this target runs on (node exporter, cAdvisor).
    pub node: String,
    /// All nodes of the cluster (kube-state-metrics lists them).
    pub nodes: Vec<String>,
}

const NAMESPACES: [&str; 3] = ["default", "kube-system", "monitoring"];
const APPS: [&str; 4] = ["api", "web", "worker", "cache"];

/// A small stable number in [0, 1) from a string, so series differ from each other.
fn seed(s: &str) -> f64 {
    let mut h: u32 = 2_166_136_261;
    for b in s.bytes() {
        h ^= u32::from(b);
        h = h.wrapping_mul(16_777_619);
    }
    f64::from(h % 10_000) / 10_000.0
}

fn family(out: &mut String, name: &str, typ: &str, help: &str) {
    let _ = writeln!(out, "# HELP {name} {help}");
    let _ = writeln!(out, "# TYPE {name} {typ}");
}

fn pods(cluster: &str, nodes: &[String]) -> Vec<(String, String, String, String)> {
    // (namespace, pod, app, node)
    let mut v = Vec::new();
    for (i, ns) in NAMESPACES.iter().enumerate() {
        for (j, app) in APPS.iter().enumerate() {
            let node = &nodes[(i + j) % nodes.len().max(1)];
            let suffix = (seed(&format!("{cluster}{ns}{app}")) * 1e5) as u32;
            v.push((
                ns.to_string(),
                format!("{app}-{suffix:05x}"),
                app.to_string(),
                node.clone(),
            ));
        }
    }
    v
}

impl Target {
    /// Renders the page as Prometheus text format 0.0.4.
    pub fn render(&self) -> String {
        let t = crate::procmetrics::now_secs();
        let mut out = String::with_capacity(16 * 1024);
        match self.kind {
            Kind::NodeExporter => self.node_exporter(&mut out, t),
            Kind::KubeStateMetrics => self.kube_state_metrics(&mut out, t),
            Kind::Cadvisor => self.cadvisor(&mut out, t),
        }
        out
    }

    fn node_exporter(&self, out: &mut String, t: f64) {
        let s = seed(&format!("{}{}", self.cluster, self.node));
        let up = t - 1_700_000_000.0;
        family(
            out,
            "node_cpu_seconds_total",
            "counter",
            "Seconds the CPUs spent in each mode.",
        );
        for cpu in 0..4 {
            for (mode, share) in [
                ("idle", 0.70),
                ("user", 0.18),
                ("system", 0.07),
                ("iowait", 0.02),
                ("irq", 0.01),
                ("softirq", 0.01),
                ("steal", 0.005),
                ("nice", 0.005),
            ] {
                let v = up * share * (1.0 + 0.1 * s) + f64::from(cpu) * 10.0;
                let _ = writeln!(
                    out,
                    "node_cpu_seconds_total{{cpu=\"{cpu}\",mode=\"{mode}\"}} {v:.2}"
                );
            }
        }
        let total = 16.0 * 1024.0 * 1024.0 * 1024.0;
        let avail = total * (0.45 + 0.1 * (t / 300.0 + s * 6.0).sin());
        for (name, v, help) in [
            (
                "node_memory_MemTotal_bytes",
                total,
                "Memory information field MemTotal_bytes.",
            ),
            (
                "node_memory_MemAvailable_bytes",
                avail,
                "Memory information field MemAvailable_bytes.",
            ),
            (
                "node_memory_MemFree_bytes",
                avail * 0.6,
                "Memory information field MemFree_bytes.",
            ),
            (
                "node_memory_Buffers_bytes",
                total * 0.02,
                "Memory information field Buffers_bytes.",
            ),
            (
                "node_memory_Cached_bytes",
                total * 0.2,
                "Memory information field Cached_bytes.",
            ),
        ] {
            family(out, name, "gauge", help);
            let _ = writeln!(out, "{name} {v:.0}");
        }
        for (name, base) in [
            ("node_load1", 1.2),
            ("node_load5", 1.0),
            ("node_load15", 0.9),
        ] {
            family(out, name, "gauge", "System load average.");
            let _ = writeln!(out, "{name} {:.2}", base + 0.5 * (t / 120.0 + s).sin());
        }
        let size = 100.0 * 1024.0 * 1024.0 * 1024.0;
        family(
            out,
            "node_filesystem_size_bytes",
            "gauge",
            "Filesystem size in bytes.",
        );
        let _ = writeln!(
            out,
            "node_filesystem_size_bytes{{device=\"/dev/vda1\",fstype=\"ext4\",mountpoint=\"/\"}} {size:.0}"
        );
        family(
            out,
            "node_filesystem_avail_bytes",
            "gauge",
            "Filesystem space available to non-root users in bytes.",
        );
        let _ = writeln!(
            out,
            "node_filesystem_avail_bytes{{device=\"/dev/vda1\",fstype=\"ext4\",mountpoint=\"/\"}} {:.0}",
            size * (0.6 - 0.2 * s)
        );
        family(
            out,
            "node_filesystem_readonly",
            "gauge",
            "Filesystem read-only status.",
        );
        let _ = writeln!(
            out,
            "node_filesystem_readonly{{device=\"/dev/vda1\",fstype=\"ext4\",mountpoint=\"/\"}} 0"
        );
        for (name, rate) in [
            ("node_network_receive_bytes_total", 250_000.0),
            ("node_network_transmit_bytes_total", 120_000.0),
        ] {
            family(out, name, "counter", "Network device statistic.");
            let _ = writeln!(
                out,
                "{name}{{device=\"eth0\"}} {:.0}",
                up * rate * (1.0 + s)
            );
        }
        for (name, rate) in [
            ("node_disk_read_bytes_total", 40_000.0),
            ("node_disk_written_bytes_total", 90_000.0),
            ("node_disk_io_time_seconds_total", 0.05),
        ] {
            family(out, name, "counter", "Disk device statistic.");
            let _ = writeln!(out, "{name}{{device=\"vda\"}} {:.3}", up * rate * (1.0 + s));
        }
        family(
            out,
            "node_uname_info",
            "gauge",
            "Labeled system information as provided by the uname system call.",
        );
        let _ = writeln!(
            out,
            "node_uname_info{{machine=\"x86_64\",nodename=\"{}\",release=\"6.1.0\",sysname=\"Linux\"}} 1",
            self.node
        );
        family(
            out,
            "node_boot_time_seconds",
            "gauge",
            "Node boot time, in unixtime.",
        );
        let _ = writeln!(out, "node_boot_time_seconds 1700000000");
        family(
            out,
            "node_time_seconds",
            "gauge",
            "System time in seconds since epoch (1970).",
        );
        let _ = writeln!(out, "node_time_seconds {t:.3}");
    }

    fn kube_state_metrics(&self, out: &mut String, t: f64) {
        family(
            out,
            "kube_node_info",
            "gauge",
            "Information about a cluster node.",
        );
        for n in &self.nodes {
            let _ = writeln!(
                out,
                "kube_node_info{{node=\"{n}\",kernel_version=\"6.1.0\",kubelet_version=\"v1.31.0\",os_image=\"Debian GNU/Linux 12\",container_runtime_version=\"containerd://1.7.0\"}} 1"
            );
        }
        family(
            out,
            "kube_node_status_condition",
            "gauge",
            "The condition of a cluster node.",
        );
        for n in &self.nodes {
            for cond in ["Ready", "MemoryPressure", "DiskPressure"] {
                for status in ["true", "false", "unknown"] {
                    let ok = (cond == "Ready") == (status == "true") && status != "unknown";
                    let _ = writeln!(
                        out,
                        "kube_node_status_condition{{node=\"{n}\",condition=\"{cond}\",status=\"{status}\"}} {}",
                        u8::from(ok)
                    );
                }
            }
        }
        family(
            out,
            "kube_node_status_allocatable",
            "gauge",
            "The allocatable for different resources of a node.",
        );
        for n in &self.nodes {
            let _ = writeln!(
                out,
                "kube_node_status_allocatable{{node=\"{n}\",resource=\"cpu\",unit=\"core\"}} 4"
            );
            let _ = writeln!(
                out,
                "kube_node_status_allocatable{{node=\"{n}\",resource=\"memory\",unit=\"byte\"}} 17179869184"
            );
            let _ = writeln!(
                out,
                "kube_node_status_allocatable{{node=\"{n}\",resource=\"pods\",unit=\"integer\"}} 110"
            );
        }
        let pods = pods(&self.cluster, &self.nodes);
        family(out, "kube_pod_info", "gauge", "Information about pod.");
        for (ns, pod, _, node) in &pods {
            let _ = writeln!(
                out,
                "kube_pod_info{{namespace=\"{ns}\",pod=\"{pod}\",node=\"{node}\",created_by_kind=\"ReplicaSet\",host_ip=\"10.0.0.1\",pod_ip=\"10.1.0.1\"}} 1"
            );
        }
        family(
            out,
            "kube_pod_owner",
            "gauge",
            "Information about the Pod's owner.",
        );
        for (ns, pod, app, _) in &pods {
            let _ = writeln!(
                out,
                "kube_pod_owner{{namespace=\"{ns}\",pod=\"{pod}\",owner_kind=\"ReplicaSet\",owner_name=\"{app}-rs\",owner_is_controller=\"true\"}} 1"
            );
        }
        family(
            out,
            "kube_pod_status_phase",
            "gauge",
            "The pods current phase.",
        );
        for (ns, pod, _, _) in &pods {
            for phase in ["Pending", "Running", "Succeeded", "Failed", "Unknown"] {
                let _ = writeln!(
                    out,
                    "kube_pod_status_phase{{namespace=\"{ns}\",pod=\"{pod}\",phase=\"{phase}\"}} {}",
                    u8::from(phase == "Running")
                );
            }
        }
        family(
            out,
            "kube_pod_container_status_restarts_total",
            "counter",
            "The number of container restarts per container.",
        );
        for (ns, pod, app, _) in &pods {
            let restarts = (t / 3600.0 * seed(pod)).floor();
            let _ = writeln!(
                out,
                "kube_pod_container_status_restarts_total{{namespace=\"{ns}\",pod=\"{pod}\",container=\"{app}\"}} {restarts}"
            );
        }
        family(
            out,
            "kube_pod_container_resource_requests",
            "gauge",
            "The number of requested request resource by a container.",
        );
        for (ns, pod, app, node) in &pods {
            let _ = writeln!(
                out,
                "kube_pod_container_resource_requests{{namespace=\"{ns}\",pod=\"{pod}\",container=\"{app}\",node=\"{node}\",resource=\"cpu\",unit=\"core\"}} 0.1"
            );
            let _ = writeln!(
                out,
                "kube_pod_container_resource_requests{{namespace=\"{ns}\",pod=\"{pod}\",container=\"{app}\",node=\"{node}\",resource=\"memory\",unit=\"byte\"}} 134217728"
            );
        }
        family(
            out,
            "kube_deployment_status_replicas_available",
            "gauge",
            "The number of available replicas per deployment.",
        );
        family(
            out,
            "kube_deployment_spec_replicas",
            "gauge",
            "Number of desired pods for a deployment.",
        );
        for ns in NAMESPACES {
            for app in APPS {
                let _ = writeln!(
                    out,
                    "kube_deployment_spec_replicas{{namespace=\"{ns}\",deployment=\"{app}\"}} 1"
                );
                let _ = writeln!(
                    out,
                    "kube_deployment_status_replicas_available{{namespace=\"{ns}\",deployment=\"{app}\"}} 1"
                );
            }
        }
        family(
            out,
            "kube_namespace_status_phase",
            "gauge",
            "kubernetes namespace status phase.",
        );
        for ns in NAMESPACES {
            let _ = writeln!(
                out,
                "kube_namespace_status_phase{{namespace=\"{ns}\",phase=\"Active\"}} 1"
            );
        }
    }

    fn cadvisor(&self, out: &mut String, t: f64) {
        let up = t - 1_700_000_000.0;
        let pods: Vec<_> = pods(&self.cluster, &self.nodes)
            .into_iter()
            .filter(|p| p.3 == self.node)
            .collect();
        family(
            out,
            "container_cpu_usage_seconds_total",
            "counter",
            "Cumulative cpu time consumed in seconds.",
        );
        for (ns, pod, app, _) in &pods {
            let _ = writeln!(
                out,
                "container_cpu_usage_seconds_total{{namespace=\"{ns}\",pod=\"{pod}\",container=\"{app}\",cpu=\"total\",id=\"/kubepods/{pod}/{app}\",image=\"registry.example/{app}:1.0\",name=\"{app}\"}} {:.3}",
                up * 0.05 * (1.0 + seed(pod))
            );
        }
        family(
            out,
            "container_memory_working_set_bytes",
            "gauge",
            "Current working set in bytes.",
        );
        family(
            out,
            "container_memory_rss",
            "gauge",
            "Size of RSS in bytes.",
        );
        for (ns, pod, app, _) in &pods {
            let ws = 64.0 * 1024.0 * 1024.0 * (1.0 + seed(pod) + 0.2 * (t / 200.0).sin());
            let _ = writeln!(
                out,
                "container_memory_working_set_bytes{{namespace=\"{ns}\",pod=\"{pod}\",container=\"{app}\",id=\"/kubepods/{pod}/{app}\",image=\"registry.example/{app}:1.0\",name=\"{app}\"}} {ws:.0}"
            );
            let _ = writeln!(
                out,
                "container_memory_rss{{namespace=\"{ns}\",pod=\"{pod}\",container=\"{app}\",id=\"/kubepods/{pod}/{app}\",image=\"registry.example/{app}:1.0\",name=\"{app}\"}} {:.0}",
                ws * 0.8
            );
        }
        for (name, rate) in [
            ("container_network_receive_bytes_total", 20_000.0),
            ("container_network_transmit_bytes_total", 9_000.0),
        ] {
            family(
                out,
                name,
                "counter",
                "Cumulative count of bytes of network traffic.",
            );
            for (ns, pod, _, _) in &pods {
                let _ = writeln!(
                    out,
                    "{name}{{namespace=\"{ns}\",pod=\"{pod}\",interface=\"eth0\",id=\"/kubepods/{pod}\"}} {:.0}",
                    up * rate * (1.0 + seed(pod))
                );
            }
        }
        family(
            out,
            "container_cpu_cfs_throttled_periods_total",
            "counter",
            "Number of throttled period intervals.",
        );
        family(
            out,
            "container_cpu_cfs_periods_total",
            "counter",
            "Number of elapsed enforcement period intervals.",
        );
        for (ns, pod, app, _) in &pods {
            let _ = writeln!(
                out,
                "container_cpu_cfs_periods_total{{namespace=\"{ns}\",pod=\"{pod}\",container=\"{app}\"}} {:.0}",
                up * 10.0
            );
            let _ = writeln!(
                out,
                "container_cpu_cfs_throttled_periods_total{{namespace=\"{ns}\",pod=\"{pod}\",container=\"{app}\"}} {:.0}",
                up * 0.2 * seed(pod)
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target(kind: Kind) -> Target {
        Target {
            kind,
            cluster: "demo-east".into(),
            node: "node-a".into(),
            nodes: vec!["node-a".into(), "node-b".into()],
        }
    }

    #[test]
    fn pages_parse_as_prometheus_text() {
        for kind in [Kind::NodeExporter, Kind::KubeStateMetrics, Kind::Cadvisor] {
            let page = target(kind).render();
            assert!(page.contains("# TYPE"), "{kind:?} has no families");
            let samples = page.lines().filter(|l| !l.starts_with('#')).count();
            assert!(samples > 10, "{kind:?} has only {samples} samples");
            for line in page.lines().filter(|l| !l.starts_with('#')) {
                let value = line.rsplit(' ').next().unwrap_or("");
                assert!(
                    value.parse::<f64>().is_ok(),
                    "{kind:?}: bad value in {line:?}"
                );
            }
        }
    }
}
