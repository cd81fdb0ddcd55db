//! Every SQL statement written out in the source, prepared against the
//! migrated schema: a renamed column or table fails here, naming the file
//! and line of the statement, before any test has to run into it. The
//! statements the restore engine and the verification compose at run time
//! are prepared too (their `composed_statements`).

use std::path::{Path, PathBuf};

use sqlx::{Executor, PgPool};

/// A string literal of the source, where it starts, and whether it opens a
/// `QueryBuilder` (a statement completed at run time).
struct Literal {
    file: PathBuf,
    line: usize,
    text: String,
    built: bool,
}

fn opens_builder(chars: &[char], at: usize) -> bool {
    let before: String = chars[at.saturating_sub(40)..at].iter().collect();
    before.trim_end().ends_with("QueryBuilder::new(")
}

/// The string literals of one Rust file (plain and raw), outside comments.
fn literals(file: &Path) -> Vec<Literal> {
    let source = std::fs::read_to_string(file).unwrap();
    let chars: Vec<char> = source.chars().collect();
    let mut found = Vec::new();
    let (mut i, mut line) = (0, 1);
    while i < chars.len() {
        let c = chars[i];
        let next = chars.get(i + 1).copied();
        match c {
            '\n' => line += 1,
            '/' if next == Some('/') => {
                while i < chars.len() && chars[i] != '\n' {
                    i += 1;
                }
                continue;
            }
            // A byte or char literal of a quote: not a string.
            '\'' if next == Some('"') && chars.get(i + 2) == Some(&'\'') => i += 2,
            'r' if next == Some('"') || (next == Some('#') && chars.get(i + 2) == Some(&'"')) => {
                let hashes = if next == Some('#') { 1 } else { 0 };
                let start = i + 2 + hashes;
                let end = (start..chars.len())
                    .find(|&j| chars[j] == '"' && (hashes == 0 || chars.get(j + 1) == Some(&'#')))
                    .unwrap();
                let text: String = chars[start..end].iter().collect();
                let built = opens_builder(&chars, i);
                found.push(Literal {
                    file: file.into(),
                    line,
                    text: text.clone(),
                    built,
                });
                line += text.matches('\n').count();
                i = end + 1 + hashes;
                continue;
            }
            '"' => {
                let mut text = String::new();
                let start_line = line;
                let built = opens_builder(&chars, i);
                i += 1;
                while chars[i] != '"' {
                    match chars[i] {
                        '\\' => {
                            match chars[i + 1] {
                                'n' => text.push('\n'),
                                '\n' => {
                                    // A line continuation: skip the next line's indent.
                                    line += 1;
                                    i += 1;
                                    while chars[i + 1].is_whitespace() {
                                        if chars[i + 1] == '\n' {
                                            line += 1;
                                        }
                                        i += 1;
                                    }
                                }
                                other => text.push(other),
                            }
                            i += 2;
                            continue;
                        }
                        '\n' => {
                            line += 1;
                            text.push('\n');
                        }
                        other => text.push(other),
                    }
                    i += 1;
                }
                found.push(Literal {
                    file: file.into(),
                    line: start_line,
                    text,
                    built,
                });
            }
            _ => {}
        }
        i += 1;
    }
    found
}

fn rust_files(dir: &Path, into: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, into);
        } else if path.extension().is_some_and(|e| e == "rs") {
            into.push(path);
        }
    }
}

/// Whether a literal is a whole statement: SQL (written in lower case,
/// unlike the pages' sentences), not a fragment or a format string (those
/// are composed: see `composed_statements`).
fn is_statement(literal: &Literal) -> bool {
    let text = literal.text.trim();
    let sql = text.starts_with("insert into ")
        || text.starts_with("delete from ")
        || text.starts_with("create temp table ")
        || (text.starts_with("update ") && text.contains(" set "))
        || text.starts_with("select ")
        || (text.starts_with("with ") && text.contains(" as ("));
    let fragment = ["union", "(", "=", ","]
        .iter()
        .any(|end| text.ends_with(end));
    sql && !fragment && !literal.built && !text.contains('{')
}

/// The table a `create temp table` statement creates.
fn temporary_table(sql: &str) -> String {
    sql.split_whitespace()
        .skip(3)
        .find(|w| !["if", "not", "exists"].contains(w))
        .unwrap()
        .to_string()
}

/// The restore's detection creates `detected` from its four parameters:
/// the service, the backup's time, the restore's time, event-sourced.
async fn create_temporary(conn: &mut sqlx::PgConnection, sql: &str) -> Result<(), sqlx::Error> {
    let now = chrono::Utc::now();
    sqlx::query(sql)
        .bind(0_i64)
        .bind(now)
        .bind(now)
        .bind(false)
        .execute(&mut *conn)
        .await
        .map(drop)
        .or_else(|error| match &error {
            // Statements without parameters take none.
            sqlx::Error::Database(e) if e.message().contains("bind message supplies") => Ok(()),
            _ => Err(error),
        })
}

#[sqlx::test]
async fn every_statement_prepares_against_the_migrated_schema(pool: PgPool) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    rust_files(&root.join("src"), &mut files);
    rust_files(&root.join("app/src"), &mut files);
    // The collector's and the live demo's statements speak to the services'
    // own databases (PostgreSQL or MySQL), not to Lockstep's schema.
    let foreign = [root.join("src/collect"), root.join("src/demo")];
    files.retain(|f| !foreign.iter().any(|dir| f.starts_with(dir)));
    files.sort();
    let mut statements: Vec<(String, String)> = files
        .iter()
        .flat_map(|f| literals(f))
        .filter(is_statement)
        .map(|l| {
            let place = format!(
                "{}:{}",
                l.file.strip_prefix(root).unwrap().display(),
                l.line
            );
            (place, l.text)
        })
        .collect();
    // A sanity check of the scanner itself: the source holds about a hundred.
    assert!(statements.len() > 80, "found only {}", statements.len());
    for (name, sql) in app::restores::db::engine::composed_statements() {
        statements.push((format!("restores::db::engine, {name}"), sql));
    }
    for (name, sql) in app::inventory::db::verify::composed_statements() {
        statements.push((format!("inventory::db::verify, {name}"), sql));
    }
    for (name, sql) in app::inventory::db::composed_statements() {
        statements.push((format!("inventory::db, {name}"), sql));
    }
    for (name, sql) in app::inventory::db::scan::composed_statements() {
        statements.push((format!("inventory::db::scan, {name}"), sql));
    }
    for (name, sql) in app::causes::kit::composed_statements() {
        statements.push((format!("causes::kit, {name}"), sql));
    }
    // Temporary tables first (the statements that use them come after),
    // as the application creates them; each check in its own savepoint.
    statements.sort_by_key(|(_, sql)| !sql.trim_start().starts_with("create temp"));
    let mut tx = pool.begin().await.unwrap();
    let mut failures = Vec::new();
    for (place, sql) in &statements {
        let mut savepoint = sqlx::Connection::begin(&mut *tx).await.unwrap();
        // A second statement creating the same table (the detection's two
        // forms) is checked in place of the first, then rolled back.
        let mut keep = true;
        let checked = if sql.trim_start().starts_with("create temp") {
            let name = temporary_table(sql);
            let exists: Option<String> = sqlx::query_scalar("select to_regclass($1)::text")
                .bind(format!("pg_temp.{name}"))
                .fetch_one(&mut *savepoint)
                .await
                .unwrap();
            if exists.is_some() && !sql.contains("if not exists") {
                keep = false;
                savepoint
                    .execute(format!("drop table {name}").as_str())
                    .await
                    .unwrap();
            }
            create_temporary(&mut savepoint, sql).await
        } else {
            (&mut *savepoint).prepare(sql.as_str()).await.map(drop)
        };
        match checked {
            Ok(()) if keep => savepoint.commit().await.unwrap(),
            Ok(()) => savepoint.rollback().await.unwrap(),
            Err(error) => failures.push(format!("{place}: {error}\n    {}", sql.trim())),
        }
    }
    assert!(
        failures.is_empty(),
        "{} statements do not prepare:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
