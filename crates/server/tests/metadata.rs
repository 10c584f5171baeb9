//! `/api/v1/series`, `/api/v1/labels`, `/api/v1/label/<name>/values`.

mod common;

use axum::http::StatusCode;
use common::{enc, get, post_form};

#[tokio::test]
async fn series_union_of_repeated_match() {
    let r = get("/api/v1/series?match[]=up&match[]=http_requests_total&match[]=up%7Binstance%3D%22a%3A9100%22%7D").await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(
        r.body,
        r#"{"status":"success","data":[{"__name__":"http_requests_total","code":"200","job":"api"},{"__name__":"up","instance":"a:9100","job":"node"},{"__name__":"up","instance":"b:9100","job":"node"}]}"#
    );
}

#[tokio::test]
async fn series_by_post_form_with_limit_and_range() {
    let r = post_form(
        "/api/v1/series",
        &format!("match[]={}&limit=1&start=0&end=200", enc(r#"{job="node"}"#)),
    )
    .await;
    assert_eq!(
        r.body,
        r#"{"status":"success","data":[{"__name__":"up","instance":"a:9100","job":"node"}],"warnings":["results truncated due to limit"]}"#
    );
    // Nothing in range: an empty list, not null.
    let r = get("/api/v1/series?match[]=up&start=0&end=50").await;
    assert_eq!(r.body, r#"{"status":"success","data":[]}"#);
}

#[tokio::test]
async fn series_errors() {
    let r = get("/api/v1/series").await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        r.body,
        r#"{"status":"error","errorType":"bad_data","error":"no match[] parameter provided"}"#
    );
    let r = get(&format!("/api/v1/series?match[]={}", enc(r#"{a=~".*"}"#))).await;
    assert_eq!(
        r.body,
        r#"{"status":"error","errorType":"bad_data","error":"invalid parameter \"match[]\": match[] must contain at least one non-empty matcher"}"#
    );
    let r = get(&format!("/api/v1/series?match[]={}", enc("up{"))).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(
        r.body
            .contains(r#"invalid parameter \"match[]\": parse error"#),
        "{}",
        r.body
    );
    let r = get("/api/v1/series?match[]=up&start=x").await;
    assert_eq!(
        r.body,
        r#"{"status":"error","errorType":"bad_data","error":"invalid parameter \"start\": invalid time value for 'start': cannot parse \"x\" to a valid timestamp"}"#
    );
}

#[tokio::test]
async fn too_many_match_values_are_refused() {
    let uri = format!("/api/v1/series?{}", "match[]=up&".repeat(1025));
    let r = get(&uri).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(r.body.contains("too many match[] parameters"), "{}", r.body);
}

#[tokio::test]
async fn label_names() {
    let r = get("/api/v1/labels").await;
    assert_eq!(
        r.body,
        r#"{"status":"success","data":["__name__","code","instance","job"]}"#
    );
    let r = post_form("/api/v1/labels", "match[]=up&match[]=up").await;
    assert_eq!(
        r.body,
        r#"{"status":"success","data":["__name__","instance","job"]}"#
    );
    let r = get("/api/v1/labels?limit=2").await;
    assert_eq!(
        r.body,
        r#"{"status":"success","data":["__name__","code"],"warnings":["results truncated due to limit"]}"#
    );
    let r = get(&format!("/api/v1/labels?match[]={}", enc(r#"{a=""}"#))).await;
    assert_eq!(
        r.body,
        r#"{"status":"error","errorType":"bad_data","error":"match[] must contain at least one non-empty matcher"}"#
    );
}

#[tokio::test]
async fn label_values() {
    let r = get("/api/v1/label/job/values").await;
    assert_eq!(r.body, r#"{"status":"success","data":["api","node"]}"#);
    let r = get("/api/v1/label/instance/values?match[]=up&end=105").await;
    assert_eq!(r.body, r#"{"status":"success","data":["a:9100","b:9100"]}"#);
    let r = get("/api/v1/label/__name__/values?match[]=http_requests_total&match[]=up").await;
    assert_eq!(
        r.body,
        r#"{"status":"success","data":["http_requests_total","up"]}"#
    );
    let r = get("/api/v1/label/nope/values").await;
    assert_eq!(r.body, r#"{"status":"success","data":[]}"#);
    // U__ escaping: "U__j_6f_b" is "job".
    let r = get("/api/v1/label/U__j_6f_b/values").await;
    assert_eq!(r.body, r#"{"status":"success","data":["api","node"]}"#);
}
