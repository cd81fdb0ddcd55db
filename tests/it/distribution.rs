//! The schema stays distributable on Citus: the migrated schema is checked
//! against the plan in `deploy/citus.sql` with Citus' own rules.

use std::collections::HashMap;

use sqlx::PgPool;

#[derive(Debug, Clone, PartialEq)]
enum Placement {
    Reference,
    /// Distributed by this column.
    Distributed(String),
    Local,
}

/// Table → placement, from the `select create_…(…)` calls of the plan.
fn plan() -> HashMap<String, Placement> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/deploy/citus.sql");
    let text = std::fs::read_to_string(path).expect("deploy/citus.sql");
    let arguments = |line: &str, function: &str| -> Option<Vec<String>> {
        let rest = line.strip_prefix(&format!("select {function}("))?;
        let inside = rest.strip_suffix(");")?;
        Some(
            inside
                .split(',')
                .map(|a| a.trim().trim_matches('\'').to_string())
                .collect(),
        )
    };
    let mut plan = HashMap::new();
    for line in text
        .lines()
        .map(str::trim)
        .filter(|l| l.starts_with("select "))
    {
        let (table, placement) = if let Some(args) = arguments(line, "create_reference_table") {
            (args[0].clone(), Placement::Reference)
        } else if let Some(args) = arguments(line, "create_distributed_table") {
            (args[0].clone(), Placement::Distributed(args[1].clone()))
        } else if let Some(args) = arguments(line, "citus_add_local_table_to_metadata") {
            (args[0].clone(), Placement::Local)
        } else {
            panic!("unexpected statement in deploy/citus.sql: {line}");
        };
        assert!(
            plan.insert(table.clone(), placement).is_none(),
            "{table} placed twice"
        );
    }
    plan
}

/// Ordinary tables of the application's schemas, as the plan names them.
async fn tables(pool: &PgPool) -> Vec<String> {
    sqlx::query_scalar(
        "select case when n.nspname = 'public' then c.relname else n.nspname || '.' || c.relname end
         from pg_class c join pg_namespace n on n.oid = c.relnamespace
         where c.relkind in ('r', 'p') and n.nspname not in ('pg_catalog', 'information_schema')
           and n.nspname not like 'pg_toast%'
         order by 1",
    )
    .fetch_all(pool)
    .await
    .unwrap()
}

/// Unique indexes (primary keys and unique constraints are among them)
/// with their columns.
async fn unique_keys(pool: &PgPool, table: &str) -> Vec<(String, Vec<String>)> {
    sqlx::query_as(
        "select i.relname::text,
                array(select a.attname::text from unnest(x.indkey) k
                      join pg_attribute a on a.attrelid = x.indrelid and a.attnum = k)
         from pg_index x join pg_class i on i.oid = x.indexrelid
         where x.indrelid = $1::regclass and x.indisunique",
    )
    .bind(table)
    .fetch_all(pool)
    .await
    .unwrap()
}

/// Foreign keys: (name, from table, from columns, to table, to columns).
type ForeignKey = (String, String, Vec<String>, String, Vec<String>);

async fn foreign_keys(pool: &PgPool) -> Vec<ForeignKey> {
    sqlx::query_as(
        "select c.conname::text, c.conrelid::regclass::text,
                array(select a.attname::text from unnest(c.conkey) with ordinality k(n, i)
                      join pg_attribute a on a.attrelid = c.conrelid and a.attnum = k.n order by k.i),
                c.confrelid::regclass::text,
                array(select a.attname::text from unnest(c.confkey) with ordinality k(n, i)
                      join pg_attribute a on a.attrelid = c.confrelid and a.attnum = k.n order by k.i)
         from pg_constraint c where c.contype = 'f'",
    )
    .fetch_all(pool)
    .await
    .unwrap()
}

#[sqlx::test]
async fn the_schema_follows_the_citus_plan(pool: PgPool) {
    let problems = problems(&pool).await;
    assert!(
        problems.is_empty(),
        "not distributable:\n{}",
        problems.join("\n")
    );
}

/// What keeps the migrated schema from being distributed as planned.
async fn problems(pool: &PgPool) -> Vec<String> {
    let plan = plan();
    let mut problems = Vec::new();

    for table in tables(pool).await {
        match plan.get(&table) {
            None => problems.push(format!("{table} is not placed in deploy/citus.sql")),
            Some(Placement::Distributed(column)) => {
                let nullable: Option<bool> = sqlx::query_scalar(
                    "select not attnotnull from pg_attribute
                     where attrelid = $1::regclass and attname = $2 and not attisdropped",
                )
                .bind(&table)
                .bind(column)
                .fetch_optional(pool)
                .await
                .unwrap();
                match nullable {
                    None => problems.push(format!("{table} has no column {column}")),
                    Some(true) => problems.push(format!("{table}.{column} may be null")),
                    Some(false) => {}
                }
                for (index, columns) in unique_keys(pool, &table).await {
                    if !columns.contains(column) {
                        problems.push(format!(
                            "{table}: unique {index} ({}) lacks the distribution column {column}",
                            columns.join(", ")
                        ));
                    }
                }
            }
            Some(_) => {}
        }
    }
    for table in plan.keys() {
        let exists: bool = sqlx::query_scalar("select to_regclass($1) is not null")
            .bind(table)
            .fetch_one(pool)
            .await
            .unwrap();
        if !exists {
            problems.push(format!(
                "deploy/citus.sql places {table}, which does not exist"
            ));
        }
    }

    for (name, from, from_columns, to, to_columns) in foreign_keys(pool).await {
        let placement = |t: &str| plan.get(t).cloned();
        match (placement(&from), placement(&to)) {
            // Into a reference table: allowed from anywhere.
            (_, Some(Placement::Reference)) => {}
            (Some(Placement::Distributed(a)), Some(Placement::Distributed(b))) => {
                // Co-located tables, joined on the distribution column.
                let joined = from_columns
                    .iter()
                    .zip(&to_columns)
                    .any(|(f, t)| f == &a && t == &b);
                if !joined {
                    problems.push(format!(
                        "{name}: {from} → {to} does not include the distribution columns ({a} → {b})"
                    ));
                }
            }
            (Some(Placement::Local), Some(Placement::Local)) => {}
            (from_placement, to_placement) => problems.push(format!(
                "{name}: {from} ({from_placement:?}) → {to} ({to_placement:?}) cannot cross placements"
            )),
        }
    }
    problems
}

/// The check catches what it is for: a unique key without the distribution
/// column, a foreign key from a reference table into a distributed one, and
/// a table the plan does not place.
#[sqlx::test]
async fn what_breaks_distribution_is_caught(pool: PgPool) {
    for statement in [
        "create unique index finding_id_unique on finding (finding_id)",
        "alter table restore add column first_finding bigint",
        "alter table restore add constraint restore_first_finding_fkey
             foreign key (service_id, first_finding) references finding (target_service_id, finding_id)",
        "create table unplaced (id bigint primary key)",
    ] {
        sqlx::query(statement).execute(&pool).await.unwrap();
    }
    let problems = problems(&pool).await.join("\n");
    assert!(problems.contains("finding_id_unique"), "{problems}");
    assert!(
        problems.contains("restore_first_finding_fkey"),
        "{problems}"
    );
    assert!(problems.contains("unplaced is not placed"), "{problems}");
}
