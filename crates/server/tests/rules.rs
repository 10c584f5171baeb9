//! `/api/v1/rules`, `/api/v1/alerts`, `/api/v1/alertmanagers` served from the process's
//! `RulesInfo`, and `/-/reload` answering as Prometheus's web handler does.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use common::{fixture, send, state};
use parking_lot::Mutex;
use server::info::{Alertmanagers, RefusedParam, RulesInfo};

/// Answers fixed data and records the parameters it was given.
#[derive(Default)]
struct Fake {
    seen: Mutex<Vec<(String, String)>>,
}

impl RulesInfo for Fake {
    fn rules_json(&self, params: &[(&str, &str)]) -> Result<String, RefusedParam> {
        *self.seen.lock() = params
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        if params.iter().any(|(k, _)| *k == "group_limit") {
            return Err(RefusedParam {
                param: "group_limit".into(),
                message: "group_limit needs to be greater than 0".into(),
            });
        }
        Ok(r#"{"groups":[{"name":"g"}]}"#.into())
    }

    fn alerts_json(&self) -> String {
        r#"{"alerts":[{"state":"firing"}]}"#.into()
    }

    fn alertmanagers(&self) -> Alertmanagers {
        Alertmanagers {
            active: vec!["http://am:9093/api/v2/alerts".into()],
            dropped: vec!["http://x\"y/api/v2/alerts".into()],
        }
    }
}

fn request(method: Method, uri: &str) -> Request<Body> {
    Request::builder()
        .method(method)
        .uri(uri)
        .body(Body::empty())
        .expect("request")
}

#[tokio::test]
async fn rules_alerts_and_alertmanagers_come_from_the_rules_info() {
    let fake = Arc::new(Fake::default());
    let mut st = state(fixture(), true);
    st.rules = Some(fake.clone());
    let app = server::router(st);

    let r = send(
        app.clone(),
        request(
            Method::GET,
            "/api/v1/rules?type=alert&match[]=up&rule_name[]=A",
        ),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(
        r.body,
        r#"{"status":"success","data":{"groups":[{"name":"g"}]}}"#
    );
    assert_eq!(
        *fake.seen.lock(),
        vec![
            ("type".to_string(), "alert".to_string()),
            ("match[]".to_string(), "up".to_string()),
            ("rule_name[]".to_string(), "A".to_string()),
        ]
    );

    let r = send(
        app.clone(),
        request(Method::GET, "/api/v1/rules?group_limit=0"),
    )
    .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        r.body,
        r#"{"status":"error","errorType":"bad_data","error":"invalid parameter \"group_limit\": group_limit needs to be greater than 0"}"#
    );

    let r = send(app.clone(), request(Method::GET, "/api/v1/alerts")).await;
    assert_eq!(
        r.body,
        r#"{"status":"success","data":{"alerts":[{"state":"firing"}]}}"#
    );

    let r = send(app, request(Method::GET, "/api/v1/alertmanagers")).await;
    assert_eq!(r.content_type, "application/json");
    assert_eq!(
        r.body,
        r#"{"status":"success","data":{"activeAlertmanagers":[{"url":"http://am:9093/api/v2/alerts"}],"droppedAlertmanagers":[{"url":"http://x\"y/api/v2/alerts"}]}}"#
    );
}

#[tokio::test]
async fn without_rules_the_alertmanagers_list_is_empty() {
    let app = server::router(state(fixture(), true));
    let r = send(app, request(Method::GET, "/api/v1/alertmanagers")).await;
    assert_eq!(
        r.body,
        r#"{"status":"success","data":{"activeAlertmanagers":[],"droppedAlertmanagers":[]}}"#
    );
}

#[tokio::test]
async fn reload_answers_as_prometheus() {
    let calls = Arc::new(AtomicUsize::new(0));
    let fail = Arc::new(Mutex::new(None::<String>));
    let mut st = state(fixture(), true);
    let (c, f) = (calls.clone(), fail.clone());
    st.reload = Some(Arc::new(move || {
        c.fetch_add(1, Ordering::SeqCst);
        let outcome = match f.lock().clone() {
            Some(e) => Err(e),
            None => Ok(()),
        };
        Box::pin(async move { outcome })
    }));
    let app = server::router(st);

    for method in [Method::POST, Method::PUT] {
        let r = send(app.clone(), request(method, "/-/reload")).await;
        assert_eq!((r.status, r.body.as_str()), (StatusCode::OK, ""));
    }
    assert_eq!(calls.load(Ordering::SeqCst), 2);

    *fail.lock() = Some("r.yml:3: group \"g\": bad".into());
    let r = send(app.clone(), request(Method::POST, "/-/reload")).await;
    assert_eq!(r.status, StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(r.content_type, "text/plain; charset=utf-8");
    assert_eq!(
        r.body,
        "failed to reload config: r.yml:3: group \"g\": bad\n"
    );

    let r = send(app, request(Method::GET, "/-/reload")).await;
    assert_eq!(r.status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(r.body, "Only POST or PUT requests allowed");
    assert_eq!(calls.load(Ordering::SeqCst), 3, "GET does not reload");
}

#[tokio::test]
async fn reload_without_a_hook_is_refused_as_with_lifecycle_disabled() {
    let app = server::router(state(fixture(), true));
    let r = send(app, request(Method::POST, "/-/reload")).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert_eq!(r.body, "Lifecycle API is not enabled.");
}
