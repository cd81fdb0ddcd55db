//! Repair kits (spec §8): what the owner of a cause's damaged side needs to
//! repair it, one line a key, streamed (`download::stream`) so that a kit
//! of a million lines costs the server a couple of chunks of memory.
//!
//! The kit covers the cause's pending findings (open or claimed): what is
//! repaired already, or decided, needs nothing more.

use chrono::{DateTime, Utc};
use futures::TryStreamExt;
use sqlx::PgPool;

use super::model::{CauseSummary, KitFormat, KitShape};
use crate::download::{Chunk, Chunks, CsvDownload, CHUNK_BYTES};
use crate::error::AppError;

/// The pending findings of cause `$2`, kept under target service `$1`.
const PENDING: &str =
    "f.target_service_id = $1 and f.cause_id = $2 and f.status in ('open', 'claimed')";

/// One kit line's values, read as text where the line passes them on as
/// they are (the JSON of a copy is never parsed on the way through).
type Line = (
    String,                // key
    Option<DateTime<Utc>>, // observed / at
    Option<String>,        // data, JSON text
    Option<String>,        // referrers, JSON text
    Option<String>,        // last referrer's service
    Option<String>,        // last referrer's key
);

/// The kit's rows, key by key: `(key, at, data, referrers, service, key)`.
pub fn query(shape: KitShape) -> String {
    match shape {
        // The newest copy of each lost target.
        KitShape::CachedCopy => format!(
            "select distinct on (f.target_key) f.target_key, f.observed_at, f.cached::text,
                    null::text, null::text, null::text
             from finding f where {PENDING} and f.cached is not null
             order by f.target_key, f.observed_at desc nulls last"
        ),
        KitShape::LostWrite => format!(
            "select distinct on (f.target_key) f.target_key, f.observed_at, f.cached::text,
                    null::text, null::text, null::text
             from finding f where {PENDING}
             order by f.target_key, f.observed_at desc nulls last"
        ),
        // The surviving entity's current version, whose data the lost key
        // held too (a mirror).
        KitShape::Counterpart => format!(
            "select distinct on (f.target_key) f.target_key, e.updated_at, v.data::text,
                    null::text, null::text, null::text
             from finding f
             join entity e on e.service_id = f.source_service_id and e.key = f.source_key and not e.deleted
             left join entity_version v on v.service_id = e.service_id and v.key = e.key
                                       and v.updated_at = e.updated_at
             where {PENDING}
             order by f.target_key, e.updated_at desc"
        ),
        KitShape::Referrers => format!(
            "select f.target_key, null::timestamptz, null::text,
                    json_agg(json_build_object('service', s.name, 'key', f.source_key)
                             order by f.source_key)::text,
                    null::text, null::text
             from finding f join service s on s.service_id = f.source_service_id
             where {PENDING}
             group by f.target_key order by f.target_key"
        ),
        KitShape::LastReferrer => format!(
            "select distinct on (f.target_key) f.target_key, null::timestamptz, null::text,
                    null::text, s.name, f.source_key
             from finding f join service s on s.service_id = f.source_service_id
             where {PENDING}
             order by f.target_key, f.observed_at desc nulls last"
        ),
    }
}

/// Every shape's statement, for the test that prepares each one.
pub fn composed_statements() -> Vec<(&'static str, String)> {
    [
        ("cached copies", KitShape::CachedCopy),
        ("lost writes", KitShape::LostWrite),
        ("counterparts", KitShape::Counterpart),
        ("referrers", KitShape::Referrers),
        ("last referrers", KitShape::LastReferrer),
    ]
    .into_iter()
    .map(|(name, shape)| (name, query(shape)))
    .collect()
}

/// The kit of a cause, streamed in `format`.
pub fn stream(
    db: PgPool,
    cause: CauseSummary,
    target_service_id: i64,
    format: KitFormat,
) -> impl futures::Stream<Item = Chunk> + Send + 'static {
    crate::download::stream("a repair kit", move |chunks| async move {
        let shape = KitShape::of(cause.kind, cause.strategy);
        let sql = query(shape);
        let rows = sqlx::query_as::<_, Line>(&sql)
            .bind(target_service_id)
            .bind(cause.id)
            .fetch(&db);
        match format {
            KitFormat::Ndjson => write_ndjson(rows, shape, &chunks).await,
            KitFormat::Csv => write_csv(rows, shape, &chunks).await,
        }
    })
}

type Rows<'a> = futures::stream::BoxStream<'a, Result<Line, sqlx::Error>>;

async fn write_ndjson(
    mut rows: Rows<'_>,
    shape: KitShape,
    chunks: &Chunks,
) -> Result<(), AppError> {
    let mut chunk = Vec::with_capacity(CHUNK_BYTES + 1024);
    while let Some(line) = rows.try_next().await? {
        ndjson_line(&mut chunk, shape, line);
        if chunk.len() >= CHUNK_BYTES {
            let full = std::mem::replace(&mut chunk, Vec::with_capacity(CHUNK_BYTES + 1024));
            if !chunks.send(full).await {
                return Ok(()); // the download was cancelled
            }
        }
    }
    chunks.send(chunk).await;
    Ok(())
}

/// Appends one line: the key and the time JSON-quoted, the JSON columns as
/// PostgreSQL wrote them.
fn ndjson_line(out: &mut Vec<u8>, shape: KitShape, line: Line) {
    let (key, at, data, referrers, service, referrer) = line;
    let quoted = |s: &str| serde_json::to_string(s).expect("a string serialises");
    let time = at.map_or("null".to_string(), |t| quoted(&t.to_rfc3339()));
    let json = |s: Option<String>| s.unwrap_or_else(|| "null".into());
    let text = match shape {
        KitShape::CachedCopy => format!(
            r#"{{"key":{},"observed":{time},"data":{}}}"#,
            quoted(&key),
            json(data)
        ),
        KitShape::LostWrite | KitShape::Counterpart => format!(
            r#"{{"key":{},"at":{time},"data":{}}}"#,
            quoted(&key),
            json(data)
        ),
        KitShape::Referrers => format!(
            r#"{{"key":{},"referrers":{}}}"#,
            quoted(&key),
            referrers.unwrap_or_else(|| "[]".into())
        ),
        KitShape::LastReferrer => format!(
            r#"{{"key":{},"last_referrer":{{"service":{},"key":{}}}}}"#,
            quoted(&key),
            quoted(&service.unwrap_or_default()),
            quoted(&referrer.unwrap_or_default())
        ),
    };
    out.extend_from_slice(text.as_bytes());
    out.push(b'\n');
}

/// The CSV columns of a shape.
fn csv_header(shape: KitShape) -> &'static [&'static str] {
    match shape {
        KitShape::CachedCopy => &["key", "observed", "data"],
        KitShape::LostWrite | KitShape::Counterpart => &["key", "at", "data"],
        KitShape::Referrers => &["key", "referrers"],
        KitShape::LastReferrer => &["key", "last_referrer_service", "last_referrer_key"],
    }
}

async fn write_csv(mut rows: Rows<'_>, shape: KitShape, chunks: &Chunks) -> Result<(), AppError> {
    let mut csv = CsvDownload::new(chunks, csv_header(shape))?;
    while let Some((key, at, data, referrers, service, referrer)) = rows.try_next().await? {
        let time = at.map(|t| t.to_rfc3339()).unwrap_or_default();
        let cells = match shape {
            KitShape::CachedCopy | KitShape::LostWrite | KitShape::Counterpart => {
                vec![key, time, data.unwrap_or_default()]
            }
            KitShape::Referrers => vec![key, referrers.unwrap_or_default()],
            KitShape::LastReferrer => {
                vec![
                    key,
                    service.unwrap_or_default(),
                    referrer.unwrap_or_default(),
                ]
            }
        };
        if !csv.write(cells).await? {
            return Ok(()); // the download was cancelled
        }
    }
    csv.finish().await
}
