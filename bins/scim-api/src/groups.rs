//! `/Groups`: Spark's departments, read-only, with their members.
//!
//! The groups come from persistence's department summaries — a handful of rows however
//! large the directory — so a list without members is one small read. Members are read a
//! page at a time in id order on a blocking thread and streamed into the response as they
//! come, so a department of 125,000 employees costs bounded memory, not a 16 MB document
//! built first. Filtering uses scim-filter's in-memory evaluator on the group documents
//! (the semantics the user SQL translation is tested against); only a filter on `members`
//! needs the member lists up front.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use actix_web::body::{BodySize, MessageBody};
use actix_web::web::Bytes;
use actix_web::{HttpRequest, HttpResponse, web};
use prometheus_client::metrics::counter::Counter;
use scim_filter::Expr;
use scim_model::{DepartmentRecord, GROUP_RESOURCE, ListResponse, Projection};
use serde_json::Value;

use crate::ScimState;
use crate::auth::Caller;
use crate::error::{ApiError, SCIM_JSON};
use crate::query::{self, Paging};
use crate::users::{method_not_allowed_post, refuse_write, scim_json};

/// Members read from the database at a time.
const MEMBERS_PER_READ: u64 = 1_000;
/// About this many bytes of JSON are sent in one chunk.
const CHUNK_BYTES: usize = 64 * 1024;
/// Chunks waiting for the client at most: what a slow reader can make the service hold.
const CHUNKS_IN_FLIGHT: usize = 4;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource("/Groups")
            .route(web::get().to(list))
            .default_service(web::to(refuse_write)),
    )
    .service(
        web::resource("/Groups/.search")
            .route(web::post().to(search))
            .default_service(web::to(method_not_allowed_post)),
    )
    .service(
        web::resource("/Groups/{id}")
            .route(web::get().to(get_one))
            .default_service(web::to(refuse_write)),
    );
}

/// The tenant's departments: summaries, or — when `with_members` — whole records.
async fn departments(
    state: &ScimState,
    tenant: &persistence::Tenant,
    with_members: bool,
) -> Result<Vec<DepartmentRecord>, ApiError> {
    let db = state.db.clone();
    let tenant_id = tenant.id.clone();
    let records = web_runtime::blocking(db.acquire_timeout(), move || {
        if with_members {
            db.employees().departments(&tenant_id)
        } else {
            db.employees().department_summaries(&tenant_id).map(|all| {
                all.into_iter()
                    .map(|summary| summary.into_record(Vec::new()))
                    .collect()
            })
        }
    })
    .await
    .map_err(ApiError::not_done)??;
    Ok(records)
}

async fn list(
    caller: Caller,
    state: web::Data<ScimState>,
    request: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let search = query::from_query_string(&request)?;
    respond(&state, &caller.tenant, &search).await
}

async fn search(
    caller: Caller,
    state: web::Data<ScimState>,
    body: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let search = query::from_body(&query::read_body(body).await?)?;
    respond(&state, &caller.tenant, &search).await
}

/// Whether a filter looks at `members`.
fn mentions_members(expr: &Expr) -> bool {
    let is_members =
        |attr: &scim_model::ResolvedAttribute| attr.attribute.name.eq_ignore_ascii_case("members");
    match expr {
        Expr::Compare { attr, .. } | Expr::Present(attr) => is_members(attr),
        Expr::ValuePath { attr, filter } => is_members(attr) || mentions_members(filter),
        Expr::Not(inner) => mentions_members(inner),
        Expr::And(all) | Expr::Or(all) => all.iter().any(mentions_members),
    }
}

async fn respond(
    state: &ScimState,
    tenant: &persistence::Tenant,
    search: &scim_model::SearchRequest,
) -> Result<HttpResponse, ApiError> {
    let max = u64::from(state.service.max_page_size);
    let checked = query::check(
        search,
        &GROUP_RESOURCE,
        u64::from(state.service.default_page_size),
        max,
    )?;
    let start_index = match checked.paging {
        Paging::Index(start_index) => start_index,
        Paging::Cursor(_) => {
            return Err(ApiError::bad_request(
                scim_model::ScimType::InvalidValue,
                "Groups are paged by startIndex; a tenant has few departments",
            ));
        }
    };
    let loaded = checked
        .filter
        .as_ref()
        .is_some_and(|f| mentions_members(f.expr()));
    let base = state.settings.scim_base_url(tenant.workspace.as_str());
    let mut groups: Vec<(DepartmentRecord, Value)> = departments(state, tenant, loaded)
        .await?
        .into_iter()
        .map(|record| {
            let document = record.to_scim_group(&base).to_value();
            (record, document)
        })
        .collect();
    if let Some(filter) = &checked.filter {
        groups.retain(|(_, document)| filter.matches(document));
    }
    if checked.sort_by.is_some() && checked.descending {
        groups.reverse(); // departments come sorted by name; displayName is the only sort
    }
    let total = groups.len() as u64;
    let skip = usize::try_from(start_index - 1).unwrap_or(usize::MAX);
    let take = usize::try_from(checked.count).unwrap_or(usize::MAX);
    let page: Vec<(DepartmentRecord, Value)> = groups.into_iter().skip(skip).take(take).collect();
    match member_shape(&checked.projection) {
        Some(shape) if !loaded => {
            // The envelope with the page's real count; its groups are streamed in
            // place of `Resources`, which is written last.
            let mut envelope =
                serde_json::to_value(ListResponse::<Value>::new(Vec::new(), total, start_index))
                    .unwrap_or_default();
            if let Some(fields) = envelope.as_object_mut() {
                fields.insert("itemsPerPage".into(), Value::from(page.len()));
                fields.remove("Resources");
            }
            let text = envelope.to_string();
            let head = format!(
                "{},\"Resources\":[",
                text.strip_suffix('}').unwrap_or(&text)
            );
            let tail = "]}".to_owned();
            Ok(stream(
                state,
                tenant,
                &checked.projection,
                shape,
                page,
                head,
                tail,
            ))
        }
        _ => {
            let resources: Vec<Value> = page
                .iter()
                .map(|(_, document)| checked.projection.apply(document))
                .collect();
            Ok(scim_json(
                actix_web::http::StatusCode::OK,
                &ListResponse::new(resources, total, start_index),
            ))
        }
    }
}

async fn get_one(
    caller: Caller,
    state: web::Data<ScimState>,
    request: HttpRequest,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let search = query::from_query_string(&request)?;
    let projection = query::projection(
        &GROUP_RESOURCE,
        &search.attributes,
        &search.excluded_attributes,
    )?;
    let base = state
        .settings
        .scim_base_url(caller.tenant.workspace.as_str());
    let record = departments(&state, &caller.tenant, false)
        .await?
        .into_iter()
        .find(|d| d.id == id.as_str())
        .ok_or_else(|| {
            ApiError::not_found(format!(
                "No group (department) with id `{id}` in this workspace."
            ))
        })?;
    let document = record.to_scim_group(&base).to_value();
    match member_shape(&projection) {
        Some(shape) => Ok(stream(
            &state,
            &caller.tenant,
            &projection,
            shape,
            vec![(record, document)],
            String::new(),
            String::new(),
        )),
        None => Ok(scim_json(
            actix_web::http::StatusCode::OK,
            &projection.apply(&document),
        )),
    }
}

/// Which keys of a member object the projection keeps, or `None` when it drops
/// `members` altogether (found by projecting a document with one member).
fn member_shape(projection: &Projection) -> Option<Vec<&'static str>> {
    let probe = serde_json::json!({
        "schemas": [scim_model::urn::GROUP],
        "id": "probe",
        "members": [{"value": "v", "display": "d", "$ref": "r"}],
    });
    let projected = projection.apply(&probe);
    let member = projected.get("members")?.get(0)?;
    Some(
        ["value", "display", "$ref"]
            .into_iter()
            .filter(|key| member.get(key).is_some())
            .collect(),
    )
}

/// A response whose body is `head`, the groups of `page` (projected, their members
/// read page by page and written as they come, with the keys of `shape`), and `tail`.
///
/// Each page of members is read on a blocking thread, which is free again before the
/// client is sent anything: a slow reader holds a few chunks of memory, never a thread.
fn stream(
    state: &ScimState,
    tenant: &persistence::Tenant,
    projection: &Projection,
    shape: Vec<&'static str>,
    page: Vec<(DepartmentRecord, Value)>,
    head: String,
    tail: String,
) -> HttpResponse {
    let (sender, receiver) = tokio::sync::mpsc::channel(CHUNKS_IN_FLIGHT);
    let groups: Vec<(String, Value)> = page
        .into_iter()
        .map(|(record, document)| (record.name, projection.apply(&document)))
        .collect();
    let members = MemberReader {
        db: state.db.clone(),
        tenant_id: tenant.id.clone(),
        base: state.settings.scim_base_url(tenant.workspace.as_str()),
        shape,
        served: state.counters.users_served.clone(),
    };
    actix_web::rt::spawn(async move {
        let mut out = Writer {
            buffer: Vec::with_capacity(CHUNK_BYTES * 2),
            sender,
        };
        let written = async {
            out.push(head.as_bytes()).await?;
            for (n, (name, document)) in groups.iter().enumerate() {
                if n > 0 {
                    out.push(b",").await?;
                }
                let text = serde_json::to_string(document).unwrap_or_else(|_| "{}".into());
                let open = text.strip_suffix('}').unwrap_or(&text);
                out.push(open.as_bytes()).await?;
                let separator: &[u8] = if open.ends_with('{') { b"" } else { b"," };
                out.push(separator).await?;
                out.push(b"\"members\":[").await?;
                members.write(name, &mut out).await?;
                out.push(b"]}").await?;
            }
            out.push(tail.as_bytes()).await?;
            out.flush().await
        }
        .await;
        if let Err(error) = written {
            // Ends the body with an error: the client sees a cut-off response, never a
            // short one that looks whole.
            let _ = out.sender.send(Err(error)).await;
        }
    });
    HttpResponse::Ok()
        .content_type(SCIM_JSON)
        .body(Streamed(receiver))
}

/// Reads one department's members a page at a time and writes them as SCIM member
/// objects with the keys of `shape`.
struct MemberReader {
    db: persistence::Database,
    tenant_id: persistence::TenantId,
    base: String,
    shape: Vec<&'static str>,
    served: Counter,
}

impl MemberReader {
    async fn write(&self, department: &str, out: &mut Writer) -> Result<(), io::Error> {
        let mut after: Option<String> = None;
        let mut first = true;
        loop {
            let (db, tenant_id, name) = (
                self.db.clone(),
                self.tenant_id.clone(),
                department.to_owned(),
            );
            let from = after.clone();
            let members = web_runtime::blocking(db.acquire_timeout(), move || {
                db.employees().department_members(
                    &tenant_id,
                    &name,
                    from.as_deref(),
                    MEMBERS_PER_READ,
                )
            })
            .await
            .map_err(|why| io::Error::other(format!("the member read was not done: {why:?}")))?
            .map_err(|e| io::Error::other(e.to_string()))?;
            self.served.inc_by(members.len() as u64);
            for member in &members {
                if !first {
                    out.push(b",").await?;
                }
                first = false;
                let mut object =
                    serde_json::to_value(member.to_scim_member(&self.base)).unwrap_or_default();
                if let Some(fields) = object.as_object_mut() {
                    fields.retain(|key, _| self.shape.contains(&key.as_str()));
                }
                out.push(object.to_string().as_bytes()).await?;
            }
            if (members.len() as u64) < MEMBERS_PER_READ {
                return Ok(());
            }
            after = members.last().map(|m| m.id.clone());
        }
    }
}

/// JSON text gathered into chunks of about [`CHUNK_BYTES`] and sent to the response;
/// sending waits while [`CHUNKS_IN_FLIGHT`] chunks are unread.
struct Writer {
    buffer: Vec<u8>,
    sender: tokio::sync::mpsc::Sender<Result<Bytes, io::Error>>,
}

impl Writer {
    async fn push(&mut self, bytes: &[u8]) -> Result<(), io::Error> {
        self.buffer.extend_from_slice(bytes);
        if self.buffer.len() >= CHUNK_BYTES {
            self.flush().await?;
        }
        Ok(())
    }

    async fn flush(&mut self) -> Result<(), io::Error> {
        if self.buffer.is_empty() {
            return Ok(());
        }
        let chunk = Bytes::from(std::mem::replace(
            &mut self.buffer,
            Vec::with_capacity(CHUNK_BYTES * 2),
        ));
        self.sender
            .send(Ok(chunk))
            .await
            .map_err(|_| io::Error::new(io::ErrorKind::BrokenPipe, "the client went away"))
    }
}

/// A response body fed by a [`Writer`] on another thread.
struct Streamed(tokio::sync::mpsc::Receiver<Result<Bytes, io::Error>>);

impl MessageBody for Streamed {
    type Error = io::Error;

    fn size(&self) -> BodySize {
        BodySize::Stream
    }

    fn poll_next(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Bytes, Self::Error>>> {
        self.get_mut().0.poll_recv(cx)
    }
}
