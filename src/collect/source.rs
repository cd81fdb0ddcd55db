//! The service's own database, read with the SQL of its config. Each query
//! is wrapped so the database hands back only integers and text, whatever
//! the service's column types: times as microseconds since 1970 (a
//! `timestamp` without time zone is read as UTC), the key as text, `data`
//! and `cache` columns as a JSON object. The poll's watermark is compared
//! with the service's own column, so its index serves the poll.

use anyhow::{anyhow, Context as _};
use chrono::DateTime;
use futures_util::TryStreamExt;
use serde_json::Value;
use sqlx::{any::AnyRow, AnyConnection, Connection, Row};

use super::config::{Query, ENTITY_COLUMNS, REFERENCE_COLUMNS};

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Dialect {
    Postgres,
    MySql,
}

/// One row of an entity query.
#[derive(Debug, Clone, PartialEq)]
pub struct EntityRow {
    pub key: String,
    /// Microseconds since 1970; `None` when the row has no last update.
    pub updated: Option<i64>,
    pub deleted: bool,
    pub data: Option<Value>,
}

/// One row of a reference query.
#[derive(Debug, Clone, PartialEq)]
pub struct ReferenceRow {
    pub from: String,
    pub to: String,
    pub observed: Option<i64>,
    /// Its last update (the watermark): the `updated_at` column when the
    /// query has one, else `observed_at`.
    pub updated: Option<i64>,
    pub cache: Option<Value>,
}

/// Which of its optional columns a query returns, found by `check`.
#[derive(Debug, Clone, Copy, Default)]
pub struct Shape {
    /// An entity query's `deleted`, a reference query's `updated_at`.
    pub optional: bool,
}

pub struct Source {
    conn: AnyConnection,
    dialect: Dialect,
}

/// Where a poll reads from: rows last updated at or after `from`, or (to
/// get past more rows of one time than a page holds) exactly at it.
#[derive(Debug, Clone, Copy)]
pub enum Range {
    All,
    From(i64),
    At(i64),
}

impl Source {
    pub async fn connect(url: &str) -> anyhow::Result<Source> {
        sqlx::any::install_default_drivers();
        let dialect = if url.starts_with("mysql:") || url.starts_with("mariadb:") {
            Dialect::MySql
        } else {
            Dialect::Postgres
        };
        let url = url.replacen("mariadb://", "mysql://", 1);
        let mut conn = AnyConnection::connect(&url)
            .await
            .map_err(|error| anyhow!("cannot connect to the service's database: {error}"))?;
        // Times in and out in UTC: TIMESTAMP columns (MySQL) and literals
        // are read in the session's time zone.
        let zone = match dialect {
            Dialect::Postgres => "set time zone 'UTC'",
            Dialect::MySql => "set time_zone = '+00:00'",
        };
        sqlx::query(zone).execute(&mut conn).await?;
        Ok(Source { conn, dialect })
    }

    /// Opens a read-only transaction that sees one moment of the database
    /// (so a reference's entity is there when the reference is), and
    /// returns that moment by the database's clock.
    pub async fn begin(&mut self) -> anyhow::Result<i64> {
        let (begin, now) = match self.dialect {
            Dialect::Postgres => (
                "begin isolation level repeatable read read only",
                "select (extract(epoch from now()) * 1000000)::bigint",
            ),
            Dialect::MySql => (
                "start transaction with consistent snapshot, read only",
                "select cast(timestampdiff(microsecond, '1970-01-01 00:00:00', utc_timestamp(6)) as signed)",
            ),
        };
        sqlx::query(begin).execute(&mut self.conn).await?;
        Ok(sqlx::query_scalar(now).fetch_one(&mut self.conn).await?)
    }

    pub async fn commit(&mut self) -> anyhow::Result<()> {
        sqlx::query("commit").execute(&mut self.conn).await?;
        Ok(())
    }

    /// Runs the query once, returning nothing, to check that it returns
    /// the columns it must: an error names the missing one.
    pub async fn check(&mut self, query: &Query, entities: bool) -> anyhow::Result<Shape> {
        let (required, optional) = if entities {
            (ENTITY_COLUMNS, "deleted")
        } else {
            (REFERENCE_COLUMNS, "updated_at")
        };
        let probe = |columns: &[&str]| {
            let list: Vec<String> = columns.iter().map(|c| format!("q.{c}")).collect();
            format!(
                "select {} from ({}) q where 1 = 0",
                list.join(", "),
                query.sql
            )
        };
        let mut columns: Vec<&str> = required.to_vec();
        columns.extend(query.extra.iter().map(String::as_str));
        if let Err(error) = sqlx::query(&probe(&columns))
            .fetch_all(&mut self.conn)
            .await
        {
            let said = error.to_string();
            let missing = columns
                .iter()
                .find(|c| said.contains(&format!("q.{c}")) || said.contains(&format!("'{c}'")));
            return Err(match missing {
                Some(column) => anyhow!(
                    "{}.sql does not return a column named {column:?} (the database says: {said})",
                    query.field
                ),
                None => anyhow!("{}.sql fails: {said}", query.field),
            });
        }
        let optional = sqlx::query(&probe(&[optional]))
            .fetch_all(&mut self.conn)
            .await
            .is_ok();
        Ok(Shape { optional })
    }

    /// The entity rows in `range`, oldest first, at most `limit` of them.
    pub async fn entities(
        &mut self,
        query: &Query,
        shape: Shape,
        range: Range,
        limit: Option<usize>,
    ) -> anyhow::Result<Vec<EntityRow>> {
        let deleted = if shape.optional {
            self.flag("q.deleted")
        } else {
            "0".to_string()
        };
        let sql = format!(
            "select {} as k, {} as u, {deleted} as d, {} as x from ({}) q{}",
            self.text("q.key"),
            self.micros("q.updated_at"),
            self.object(&query.extra),
            query.sql,
            self.range("q.updated_at", range, limit),
        );
        let mut rows = sqlx::query(&sql).fetch(&mut self.conn);
        let mut out = Vec::new();
        while let Some(row) = rows.try_next().await.with_context(|| query.field.clone())? {
            out.push(EntityRow {
                key: text(&row, "k")?.unwrap_or_default(),
                updated: row.try_get("u")?,
                deleted: row.try_get::<i64, _>("d")? != 0,
                data: json(&row, "x")?,
            });
        }
        Ok(out)
    }

    /// The reference rows in `range` (by their last update), oldest first;
    /// rows without a target are no reference and are left out.
    pub async fn references(
        &mut self,
        query: &Query,
        shape: Shape,
        range: Range,
        limit: Option<usize>,
    ) -> anyhow::Result<Vec<ReferenceRow>> {
        let updated = if shape.optional {
            "q.updated_at"
        } else {
            "q.observed_at"
        };
        let sql = format!(
            "select {} as f, {} as t, {} as o, {} as u, {} as x from ({}) q{}",
            self.text("q.from_key"),
            self.text("q.to_key"),
            self.micros("q.observed_at"),
            self.micros(updated),
            self.object(&query.extra),
            query.sql,
            self.range(updated, range, limit),
        );
        let mut rows = sqlx::query(&sql).fetch(&mut self.conn);
        let mut out = Vec::new();
        while let Some(row) = rows.try_next().await.with_context(|| query.field.clone())? {
            let (Some(from), Some(to)) = (text(&row, "f")?, text(&row, "t")?) else {
                continue;
            };
            out.push(ReferenceRow {
                from,
                to,
                observed: row.try_get("o")?,
                updated: row.try_get("u")?,
                cache: json(&row, "x")?,
            });
        }
        Ok(out)
    }

    /// The newest last update the query returns (None for no rows).
    pub async fn newest(&mut self, query: &Query, column: &str) -> anyhow::Result<Option<i64>> {
        let sql = format!(
            "select {} from ({}) q where q.{column} is not null order by q.{column} desc limit 1",
            self.micros(&format!("q.{column}")),
            query.sql
        );
        Ok(sqlx::query_scalar::<_, Option<i64>>(&sql)
            .fetch_optional(&mut self.conn)
            .await?
            .flatten())
    }

    fn micros(&self, column: &str) -> String {
        match self.dialect {
            Dialect::Postgres => format!("(extract(epoch from {column}) * 1000000)::bigint"),
            Dialect::MySql => format!(
                "cast(timestampdiff(microsecond, '1970-01-01 00:00:00', {column}) as signed)"
            ),
        }
    }

    fn text(&self, column: &str) -> String {
        match self.dialect {
            Dialect::Postgres => format!("{column}::text"),
            Dialect::MySql => format!("cast({column} as char)"),
        }
    }

    fn flag(&self, column: &str) -> String {
        match self.dialect {
            Dialect::Postgres => format!("coalesce({column}::int, 0)::bigint"),
            Dialect::MySql => format!("cast(coalesce({column}, 0) <> 0 as signed)"),
        }
    }

    /// The extra columns as one JSON object, or NULL without any.
    fn object(&self, columns: &[String]) -> String {
        if columns.is_empty() {
            return "null".into();
        }
        let pairs: Vec<String> = columns.iter().map(|c| format!("'{c}', q.{c}")).collect();
        match self.dialect {
            Dialect::Postgres => format!("json_build_object({})::text", pairs.join(", ")),
            Dialect::MySql => format!("cast(json_object({}) as char)", pairs.join(", ")),
        }
    }

    /// The filter and order of a poll on `column`, compared as the
    /// service's own type (a literal in its time format), so its index
    /// serves it.
    fn range(&self, column: &str, range: Range, limit: Option<usize>) -> String {
        let literal = |micros: i64| {
            let at = DateTime::from_timestamp_micros(micros).unwrap_or_default();
            match self.dialect {
                Dialect::Postgres => format!("'{}'", at.format("%Y-%m-%d %H:%M:%S%.6f+00")),
                Dialect::MySql => format!("'{}'", at.format("%Y-%m-%d %H:%M:%S%.6f")),
            }
        };
        let filter = match range {
            Range::All => return String::new(),
            Range::From(from) => format!(" where {column} >= {}", literal(from)),
            Range::At(at) => format!(" where {column} = {}", literal(at)),
        };
        let limit = limit.map(|n| format!(" limit {n}")).unwrap_or_default();
        format!("{filter} order by {column}{limit}")
    }
}

/// Text from a column MySQL may describe as text or as a blob (long text).
fn text(row: &AnyRow, column: &str) -> anyhow::Result<Option<String>> {
    if let Ok(text) = row.try_get::<Option<String>, _>(column) {
        return Ok(text);
    }
    let bytes: Option<Vec<u8>> = row.try_get(column)?;
    bytes
        .map(|b| String::from_utf8(b).map_err(|_| anyhow!("{column} is not UTF-8 text")))
        .transpose()
}

fn json(row: &AnyRow, column: &str) -> anyhow::Result<Option<Value>> {
    text(row, column)?
        .map(|t| serde_json::from_str(&t).map_err(|e| anyhow!("{column}: not JSON: {e}")))
        .transpose()
}
