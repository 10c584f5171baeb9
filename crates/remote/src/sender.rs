//! The agent's sender: reads the on-disk queue, spreads series over shards (so each
//! series keeps its order), batches, POSTs with retries, and moves the queue's cursor only
//! past data that was acknowledged or deliberately dropped.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use parking_lot::Mutex;
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;
use tokio::time::Instant;

use crate::appender::{MetadataStore, record};
use crate::codec::{self, WriteRequest};
use crate::metrics::SenderMetrics;
use crate::queue::{DiskQueue, Position};

/// Largest request body the sender reads back from its own queue, decompressed.
const MAX_RECORD_DECODED: usize = 256 << 20;
/// Metadata entries per request, as Prometheus's `max_samples_per_send` for metadata.
const METADATA_PER_SEND: usize = 500;
/// How often the metadata loop looks for new metric families between full sends.
const METADATA_CHECK: Duration = Duration::from_secs(2);
/// Upper bound on an honoured Retry-After, so a bad header cannot stall sending for days.
const MAX_RETRY_AFTER: Duration = Duration::from_secs(600);

/// Prometheus's `queue_config`, with its defaults.
#[derive(Debug, Clone, PartialEq)]
pub struct QueueConfig {
    /// Samples buffered per shard.
    pub capacity: usize,
    /// Most samples per request.
    pub max_samples_per_send: usize,
    /// Longest a sample waits in a shard before a partial batch is sent.
    pub batch_send_deadline: Duration,
    /// First retry delay.
    pub min_backoff: Duration,
    /// Longest retry delay.
    pub max_backoff: Duration,
    /// Shards sending in parallel.
    pub shards: usize,
    /// Retry on 429 (honouring Retry-After) instead of dropping.
    pub retry_on_http_429: bool,
}

impl Default for QueueConfig {
    fn default() -> Self {
        QueueConfig {
            capacity: 10_000,
            max_samples_per_send: 2_000,
            batch_send_deadline: Duration::from_secs(5),
            min_backoff: Duration::from_millis(30),
            max_backoff: Duration::from_secs(5),
            shards: 4,
            retry_on_http_429: true,
        }
    }
}

/// Where and how to send.
#[derive(Debug, Clone)]
pub struct SenderConfig {
    /// The remote-write endpoint.
    pub url: String,
    /// The HTTP client (auth, TLS, proxies are the caller's business).
    pub client: reqwest::Client,
    /// Per-request timeout (Prometheus's `remote_timeout`, 30s).
    pub timeout: Duration,
    /// Batching, sharding and retry tuning.
    pub queue: QueueConfig,
    /// How often all metadata is re-sent (Prometheus: 1m); zero disables metadata.
    pub metadata_interval: Duration,
}

impl SenderConfig {
    /// A configuration with Prometheus's defaults for `url`.
    pub fn new(url: impl Into<String>, client: reqwest::Client) -> Self {
        SenderConfig {
            url: url.into(),
            client,
            timeout: Duration::from_secs(30),
            queue: QueueConfig::default(),
            metadata_interval: Duration::from_secs(60),
        }
    }
}

/// A running sender; dropping it does not stop it, [`SenderHandle::shutdown`] does.
pub struct SenderHandle {
    stop: watch::Sender<bool>,
    task: JoinHandle<()>,
}

impl SenderHandle {
    /// Stops reading, lets shards try one last send of what they hold, and waits.
    /// Whatever is not acknowledged stays in the queue for the next start.
    pub async fn shutdown(self) {
        let _ = self.stop.send(true);
        if let Err(e) = self.task.await {
            tracing::error!(error = %e, "remote-write sender task failed");
        }
    }
}

/// Starts the sender on the current tokio runtime.
pub fn spawn(
    config: SenderConfig,
    queue: Arc<DiskQueue>,
    metadata: MetadataStore,
    metrics: Arc<SenderMetrics>,
) -> SenderHandle {
    let (stop, stop_rx) = watch::channel(false);
    let ctx = Arc::new(Ctx {
        config,
        queue,
        metrics,
        tracker: Mutex::new(Tracker::default()),
    });
    let task = tokio::spawn(run(ctx, metadata, stop_rx));
    SenderHandle { stop, task }
}

/// What every task shares.
struct Ctx {
    config: SenderConfig,
    queue: Arc<DiskQueue>,
    metrics: Arc<SenderMetrics>,
    tracker: Mutex<Tracker>,
}

/// Records read but not yet fully delivered, to move the cursor over a finished prefix.
#[derive(Default)]
struct Tracker {
    next_id: u64,
    /// Record id to (samples still outstanding, position after the record).
    pending: BTreeMap<u64, (u64, Position)>,
}

impl Ctx {
    /// Registers a record; returns its id.
    fn track(&self, samples: u64, end: Position) -> u64 {
        let mut t = self.tracker.lock();
        let id = t.next_id;
        t.next_id += 1;
        t.pending.insert(id, (samples, end));
        id
    }

    /// Marks samples of records done and acknowledges the finished prefix on disk.
    fn complete(&self, done: &HashMap<u64, u64>) {
        let upto = {
            let mut t = self.tracker.lock();
            for (id, n) in done {
                if let Some(p) = t.pending.get_mut(id) {
                    p.0 = p.0.saturating_sub(*n);
                }
            }
            let mut upto = None;
            while let Some(entry) = t.pending.first_entry() {
                if entry.get().0 > 0 {
                    break;
                }
                upto = Some(entry.remove().1);
            }
            upto
        };
        if let Some(pos) = upto
            && let Err(e) = self.queue.ack(pos)
        {
            tracing::error!(error = %e, "cannot persist remote-write queue cursor");
        }
    }
}

/// One queue record on its way through a shard.
struct Item {
    /// Tracker id, for acknowledgement.
    record: u64,
    samples: u64,
    max_t: i64,
    /// Snappy-compressed `WriteRequest.timeseries` entries.
    body: bytes::Bytes,
}

/// Records buffered per shard between the reader and the shard's sender.
const RECORDS_PER_SHARD: usize = 64;

async fn run(ctx: Arc<Ctx>, metadata: MetadataStore, mut stop: watch::Receiver<bool>) {
    let shards = ctx.config.queue.shards.max(1);
    ctx.metrics.shards.store(shards as u64, Ordering::Relaxed);
    let mut senders = Vec::with_capacity(shards);
    let mut tasks = Vec::with_capacity(shards);
    for _ in 0..shards {
        let (tx, rx) = mpsc::channel(RECORDS_PER_SHARD);
        senders.push(tx);
        tasks.push(tokio::spawn(shard(ctx.clone(), rx, stop.clone())));
    }
    let meta_task = tokio::spawn(send_metadata_loop(ctx.clone(), metadata, stop.clone()));

    'read: while !*stop.borrow() {
        let q = ctx.queue.clone();
        let records = match tokio::task::spawn_blocking(move || q.read(64, 8 << 20)).await {
            Ok(Ok(r)) => r,
            Ok(Err(e)) => {
                tracing::error!(error = %e, "cannot read remote-write queue");
                wait_or_stop(&mut stop, ctx.config.queue.max_backoff).await;
                continue;
            }
            Err(e) => {
                tracing::error!(error = %e, "remote-write queue reader failed");
                break;
            }
        };
        if records.is_empty() {
            tokio::select! {
                _ = ctx.queue.appended() => {}
                _ = stop.changed() => {}
                // A safety net: appends always notify, but re-check now and then anyway.
                _ = tokio::time::sleep(Duration::from_secs(1)) => {}
            }
            continue;
        }
        for rec in records {
            let samples = u64::from(rec.samples);
            let Some((key, max_t, _)) = record::decode(&rec.payload) else {
                tracing::error!("remote-write queue record without a header dropped");
                ctx.metrics
                    .dropped_other
                    .fetch_add(samples, Ordering::Relaxed);
                let id = ctx.track(0, rec.end);
                ctx.complete(&HashMap::from([(id, 0)]));
                continue;
            };
            let id = ctx.track(samples, rec.end);
            if samples == 0 {
                ctx.complete(&HashMap::from([(id, 0)]));
                continue;
            }
            let item = Item {
                record: id,
                samples,
                max_t,
                body: bytes::Bytes::from(rec.payload).slice(record::HEADER_LEN..),
            };
            let shard = (key % shards as u64) as usize;
            tokio::select! {
                r = senders[shard].send(item) => if r.is_err() { break 'read; },
                _ = stop.changed() => break 'read,
            }
        }
    }
    drop(senders);
    for t in tasks {
        let _ = t.await;
    }
    let _ = meta_task.await;
    if let Err(e) = ctx.queue.sync() {
        tracing::error!(error = %e, "cannot sync remote-write queue");
    }
}

/// Collects records for one shard and sends a batch once it holds `max_samples_per_send`
/// samples or its deadline passes.
async fn shard(ctx: Arc<Ctx>, mut rx: mpsc::Receiver<Item>, mut stop: watch::Receiver<bool>) {
    let max = ctx.config.queue.max_samples_per_send.max(1) as u64;
    let mut batch: Vec<Item> = Vec::new();
    let mut held = 0u64;
    let mut deadline: Option<Instant> = None;
    loop {
        let timer = async {
            match deadline {
                Some(d) => tokio::time::sleep_until(d).await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            item = rx.recv() => match item {
                Some(item) => {
                    if batch.is_empty() {
                        deadline = Some(Instant::now() + ctx.config.queue.batch_send_deadline);
                    }
                    held += item.samples;
                    batch.push(item);
                    if held >= max {
                        if !send_batch(&ctx, &mut batch, &mut stop).await { return; }
                        held = 0;
                        deadline = None;
                    }
                }
                None => {
                    // The reader stopped (shutdown): one last try for what is held.
                    if !batch.is_empty() {
                        send_batch(&ctx, &mut batch, &mut stop).await;
                    }
                    return;
                }
            },
            _ = timer => {
                if !send_batch(&ctx, &mut batch, &mut stop).await { return; }
                held = 0;
                deadline = None;
            }
        }
    }
}

/// Builds one request body by joining the records' compressed bodies (their timeseries
/// entries concatenate into one valid `WriteRequest`) without recompressing. Records whose
/// snappy header is unreadable or too large are dropped and counted.
fn build_request(ctx: &Ctx, batch: &[Item]) -> (Vec<u8>, HashMap<u64, u64>, u64, Option<i64>) {
    let mut parts: Vec<&[u8]> = Vec::with_capacity(batch.len());
    let mut per_record: HashMap<u64, u64> = HashMap::new();
    let mut n = 0;
    let mut max_t = None;
    for it in batch {
        match snap::raw::decompress_len(&it.body) {
            Ok(len) if len <= MAX_RECORD_DECODED => {
                parts.push(&it.body);
                n += it.samples;
                max_t = max_t.max(Some(it.max_t));
                per_record.insert(it.record, it.samples);
            }
            other => {
                tracing::error!(result = ?other, "undecodable remote-write queue record dropped");
                ctx.metrics
                    .dropped_other
                    .fetch_add(it.samples, Ordering::Relaxed);
                ctx.complete(&HashMap::from([(it.record, it.samples)]));
            }
        }
    }
    match codec::snappy_concat(&parts) {
        Ok(body) => (body, per_record, n, max_t),
        Err(e) => {
            // Every header was checked above; only a request over 4 GiB lands here.
            tracing::error!(error = %e, "remote-write batch cannot be joined, dropped");
            ctx.metrics.dropped_other.fetch_add(n, Ordering::Relaxed);
            ctx.complete(&per_record);
            (Vec::new(), HashMap::new(), 0, None)
        }
    }
}

/// Sends a batch until it is acknowledged or dropped; false when shutdown interrupted it
/// (the batch then stays unacknowledged in the queue).
async fn send_batch(ctx: &Ctx, batch: &mut Vec<Item>, stop: &mut watch::Receiver<bool>) -> bool {
    if batch.is_empty() {
        return true;
    }
    let (body, per_record, n, max_t) = build_request(ctx, batch);
    if n == 0 {
        batch.clear();
        return true;
    }
    let body = bytes::Bytes::from(body);
    let m = &ctx.metrics;
    let outcome = send_with_retry(ctx, body, n, stop).await;
    match outcome {
        Outcome::Delivered => m.record_success(n, max_t),
        Outcome::Dropped => {
            m.samples_failed.fetch_add(n, Ordering::Relaxed);
            m.dropped_4xx.fetch_add(n, Ordering::Relaxed);
        }
        Outcome::Stopped => return false,
    }
    batch.clear();
    ctx.complete(&per_record);
    true
}

/// How a send ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Outcome {
    Delivered,
    Dropped,
    Stopped,
}

/// What one attempt says about retrying.
enum Attempt {
    Ok,
    Fatal(String),
    Retry(String, Option<Duration>),
}

/// POSTs `body` until success, a non-retryable status, or shutdown; `n` items are counted
/// as retried on each retry.
async fn send_with_retry(
    ctx: &Ctx,
    body: bytes::Bytes,
    n: u64,
    stop: &mut watch::Receiver<bool>,
) -> Outcome {
    let q = &ctx.config.queue;
    let mut backoff = q.min_backoff;
    loop {
        match attempt(ctx, body.clone()).await {
            Attempt::Ok => return Outcome::Delivered,
            Attempt::Fatal(why) => {
                tracing::error!(url = %ctx.config.url, reason = %why, items = n, "remote write refused, dropping batch");
                return Outcome::Dropped;
            }
            Attempt::Retry(why, retry_after) => {
                ctx.metrics.samples_retried.fetch_add(n, Ordering::Relaxed);
                let wait = retry_after.unwrap_or(backoff);
                tracing::warn!(url = %ctx.config.url, reason = %why, wait_ms = wait.as_millis() as u64, "remote write failed, retrying");
                if *stop.borrow() || !wait_or_stop(stop, wait).await {
                    return Outcome::Stopped;
                }
                backoff = (backoff * 2).min(q.max_backoff);
            }
        }
    }
}

/// One POST, classified.
async fn attempt(ctx: &Ctx, body: bytes::Bytes) -> Attempt {
    let res = ctx
        .config
        .client
        .post(&ctx.config.url)
        .header(reqwest::header::CONTENT_ENCODING, "snappy")
        .header(reqwest::header::CONTENT_TYPE, "application/x-protobuf")
        .header(
            reqwest::header::USER_AGENT,
            concat!("Fleetwatch/", env!("CARGO_PKG_VERSION")),
        )
        .header("X-Prometheus-Remote-Write-Version", "0.1.0")
        .timeout(ctx.config.timeout)
        .body(body)
        .send()
        .await;
    let resp = match res {
        Ok(r) => r,
        Err(e) => return Attempt::Retry(format!("request: {e}"), None),
    };
    let status = resp.status();
    if status.is_success() {
        return Attempt::Ok;
    }
    let retry_after = resp
        .headers()
        .get(reqwest::header::RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(parse_retry_after);
    let detail = format!("HTTP {}: {}", status.as_u16(), body_excerpt(resp).await);
    let code = status.as_u16();
    if code >= 500 || (code == 429 && ctx.config.queue.retry_on_http_429) {
        Attempt::Retry(detail, retry_after)
    } else {
        Attempt::Fatal(detail)
    }
}

/// The first bytes of an error response, for logs; the rest is not read.
async fn body_excerpt(mut resp: reqwest::Response) -> String {
    const MAX: usize = 512;
    let mut buf = Vec::new();
    while buf.len() < MAX {
        match resp.chunk().await {
            Ok(Some(c)) => buf.extend_from_slice(&c[..c.len().min(MAX - buf.len())]),
            _ => break,
        }
    }
    String::from_utf8_lossy(&buf).trim().to_string()
}

/// Retry-After as seconds or an HTTP date, capped.
fn parse_retry_after(v: &str) -> Option<Duration> {
    let v = v.trim();
    let d = if let Ok(secs) = v.parse::<u64>() {
        Duration::from_secs(secs)
    } else {
        let at = httpdate::parse_http_date(v).ok()?;
        at.duration_since(std::time::SystemTime::now())
            .unwrap_or(Duration::ZERO)
    };
    Some(d.min(MAX_RETRY_AFTER))
}

/// Sleeps for `d`; false when shutdown was requested first.
async fn wait_or_stop(stop: &mut watch::Receiver<bool>, d: Duration) -> bool {
    tokio::select! {
        _ = tokio::time::sleep(d) => !*stop.borrow(),
        _ = stop.changed() => false,
    }
}

/// Sends all known metadata every `metadata_interval` (Prometheus: 1m), and soon after
/// new metric families appear, so a fresh agent's metadata does not wait a full interval.
async fn send_metadata_loop(ctx: Arc<Ctx>, store: MetadataStore, mut stop: watch::Receiver<bool>) {
    let every = ctx.config.metadata_interval;
    if every.is_zero() {
        return;
    }
    let check = every.min(METADATA_CHECK);
    let mut sent_families = 0usize;
    let mut last_full = tokio::time::Instant::now();
    let mut first = true;
    loop {
        let families = store.lock().len();
        let due = first || last_full.elapsed() >= every;
        if (due || families > sent_families) && families > 0 {
            let all: Vec<codec::MetricMetadata> = {
                let m = store.lock();
                let mut v: Vec<_> = m
                    .iter()
                    .map(|(name, meta)| codec::MetricMetadata::from_model(name, meta))
                    .collect();
                v.sort_by(|a, b| a.metric_family_name.cmp(&b.metric_family_name));
                v
            };
            for chunk in all.chunks(METADATA_PER_SEND) {
                let body = bytes::Bytes::from(codec::encode(&WriteRequest {
                    timeseries: Vec::new(),
                    metadata: chunk.to_vec(),
                }));
                let n = chunk.len() as u64;
                match send_with_retry(&ctx, body, 0, &mut stop).await {
                    Outcome::Delivered => ctx.metrics.metadata_sent.fetch_add(n, Ordering::Relaxed),
                    Outcome::Dropped => ctx.metrics.metadata_failed.fetch_add(n, Ordering::Relaxed),
                    Outcome::Stopped => return,
                };
            }
            sent_families = all.len();
            last_full = tokio::time::Instant::now();
            first = false;
        }
        if !wait_or_stop(&mut stop, check).await {
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_forms() {
        assert_eq!(parse_retry_after("3"), Some(Duration::from_secs(3)));
        assert_eq!(parse_retry_after("99999"), Some(MAX_RETRY_AFTER));
        assert_eq!(
            parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT"),
            Some(Duration::ZERO)
        );
        assert_eq!(parse_retry_after("soon"), None);
    }
}
