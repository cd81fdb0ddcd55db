//! The live demo (spec §9, `scripts/run.sh`): the shop's `orders` and
//! `customers` get real PostgreSQL databases and `payments` a real
//! MySQL/MariaDB one, seeded with the same shop as the rest of the demo. A
//! small workload writes to them, collectors inside the server report them,
//! each is backed up with its real dump tool under the demo folder, and
//! `lockstep demo disaster orders` restores one from its dump with the real
//! restore tool — so the suspected restore, the findings and the repairs
//! all come from a real restore of a real database.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{anyhow, bail, Context as _};
use app::inventory::events::Events;
use app::state::BackgroundTasks;
use chrono::{DateTime, Utc};
use serde_json::{json, Value};
use sqlx::{Connection, Executor, MySqlConnection, PgConnection, PgPool};

use crate::collect::{self, config::Query, config::ServiceConfig};

/// The services the live demo gives a database of their own.
pub const COLLECTED: [&str; 3] = ["customers", "orders", "payments"];

/// Where the live demo's databases and files are (from the environment).
#[derive(Debug, Clone)]
pub struct Settings {
    /// Per collected service, its database's URL.
    pub databases: BTreeMap<String, String>,
    /// Dumps and the state file `disaster` reads.
    pub dir: PathBuf,
    /// How often the workload writes; collectors poll twice as often and
    /// take a snapshot every four ticks.
    pub tick: Duration,
}

impl Settings {
    /// `LOCKSTEP_DEMO_DATABASES=orders=postgres://…,customers=…,payments=mysql://…`,
    /// `LOCKSTEP_DEMO_DIR` (default `.data/demo`), `LOCKSTEP_DEMO_TICK`
    /// (seconds, default 15); None when the databases are not given.
    pub fn from_env() -> Option<anyhow::Result<Settings>> {
        let list = std::env::var("LOCKSTEP_DEMO_DATABASES").ok()?;
        Some(Settings::parse(
            &list,
            std::env::var("LOCKSTEP_DEMO_DIR").ok(),
            std::env::var("LOCKSTEP_DEMO_TICK").ok(),
        ))
    }

    /// The same, from the values of those variables.
    pub fn parse(
        list: &str,
        dir: Option<String>,
        tick: Option<String>,
    ) -> anyhow::Result<Settings> {
        let mut databases = BTreeMap::new();
        for item in list.split(',').map(str::trim).filter(|i| !i.is_empty()) {
            let (service, url) = item
                .split_once('=')
                .ok_or_else(|| anyhow!("LOCKSTEP_DEMO_DATABASES: {item:?} is not service=URL"))?;
            databases.insert(service.to_string(), url.to_string());
        }
        for service in COLLECTED {
            if !databases.contains_key(service) {
                bail!("LOCKSTEP_DEMO_DATABASES names no database for {service}");
            }
        }
        let tick = match tick {
            Some(t) => t
                .parse::<u64>()
                .map_err(|_| anyhow!("LOCKSTEP_DEMO_TICK: {t:?} is not a number of seconds"))?,
            None => 15,
        };
        Ok(Settings {
            databases,
            dir: PathBuf::from(dir.unwrap_or_else(|| ".data/demo".into())),
            tick: Duration::from_secs(tick.max(1)),
        })
    }

    fn url(&self, service: &str) -> &str {
        &self.databases[service]
    }
}

/// Starts the live demo: the databases (created, and with `fresh` emptied
/// and seeded with `shop`), a real backup of each, the collectors and the
/// workload, held in `tasks` (a running demo's stopped first). `lockstep`
/// is the server's own URL, `token` its admin token.
pub async fn start(
    tasks: &BackgroundTasks,
    pool: &PgPool,
    settings: &Settings,
    shop: &BTreeMap<&str, Events>,
    fresh: bool,
    lockstep: &str,
    token: &str,
) -> anyhow::Result<()> {
    tasks.stop();
    std::fs::create_dir_all(settings.dir.join("backups"))
        .with_context(|| format!("creating {}", settings.dir.display()))?;
    for service in COLLECTED {
        let url = settings.url(service);
        ensure_database(url).await?;
        if fresh {
            seed(service, url, &shop[service]).await?;
        }
    }
    let mut state = serde_json::Map::new();
    for service in COLLECTED {
        let dump = backup(pool, settings, service).await?;
        state.insert(
            service.to_string(),
            json!({"database": settings.url(service), "dump": dump}),
        );
    }
    std::fs::write(
        settings.dir.join("live.json"),
        serde_json::to_string_pretty(&Value::Object(state))?,
    )?;
    let mut running = Vec::new();
    for service in COLLECTED {
        match collect::spawn(collector(settings, service, lockstep, token)).await {
            Ok(collector) => running.push(collector.abort_handle()),
            Err(error) => {
                // The collectors already started stop with the demo.
                running.iter().for_each(tokio::task::AbortHandle::abort);
                return Err(error);
            }
        }
    }
    running.push(tokio::spawn(workload(settings.clone())).abort_handle());
    tasks.replace(running);
    tracing::info!(dir = %settings.dir.display(), "live demo running: its databases are collected");
    Ok(())
}

fn is_mysql(url: &str) -> bool {
    url.starts_with("mysql:") || url.starts_with("mariadb:")
}

/// The database in `url`, created on its server when missing.
async fn ensure_database(url: &str) -> anyhow::Result<()> {
    let (server, name) = url
        .rsplit_once('/')
        .ok_or_else(|| anyhow!("{url}: no database name"))?;
    let name = name.split('?').next().unwrap_or_default();
    if !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') || name.is_empty() {
        bail!("the demo database name {name:?} must be letters, digits and _");
    }
    if is_mysql(url) {
        let mut conn = MySqlConnection::connect(server).await?;
        conn.execute(format!("create database if not exists {name}").as_str())
            .await?;
    } else {
        let mut conn = PgConnection::connect(&format!("{server}/postgres")).await?;
        let exists: bool =
            sqlx::query_scalar("select exists (select 1 from pg_database where datname = $1)")
                .bind(name)
                .fetch_one(&mut conn)
                .await?;
        if !exists {
            conn.execute(format!("create database {name}").as_str())
                .await?;
        }
    }
    Ok(())
}

/// One row per key of a service's events: its latest state, and its
/// references by relation (target, observed, cached copy).
struct SeedRow {
    key: String,
    at: DateTime<Utc>,
    data: Value,
    references: BTreeMap<String, (String, DateTime<Utc>, Option<Value>)>,
}

fn rows_of(events: &Events) -> Vec<SeedRow> {
    let mut rows: BTreeMap<&str, SeedRow> = BTreeMap::new();
    let mut entities: Vec<_> = events.entities.iter().collect();
    entities.sort_by_key(|e| e.at);
    for e in entities {
        let row = rows.entry(&e.key).or_insert_with(|| SeedRow {
            key: e.key.clone(),
            at: e.at,
            data: Value::Null,
            references: BTreeMap::new(),
        });
        row.at = e.at;
        row.data = e.data.clone().unwrap_or(Value::Null);
    }
    for r in &events.references {
        if let Some(row) = rows.get_mut(r.from.as_str()) {
            let observed = r.observed.unwrap_or(r.at);
            row.references.insert(
                r.relation.clone(),
                (r.to.clone(), observed, r.cache.clone()),
            );
        }
    }
    rows.into_values().collect()
}

const CUSTOMERS_TABLE: &str = "create table customers (key text primary key, name text, city text,
                                                      updated_at timestamptz not null);
                               create index on customers (updated_at)";
const ORDERS_TABLE: &str =
    "create table orders (key text primary key, status text not null, total int not null,
                                                customer_key text, customer_seen_at timestamptz,
                                                product_key text, product_seen_at timestamptz,
                                                product_name text, product_price int,
                                                updated_at timestamptz not null);
                            create index on orders (updated_at)";
const PAYMENTS_TABLE: &str = "create table payments (`key` varchar(40) primary key, amount int,
                                                    order_key varchar(40), order_seen_at datetime(6),
                                                    updated_at datetime(6) not null, index (updated_at))";

/// The service's table, recreated and filled with the shop's state.
async fn seed(service: &str, url: &str, events: &Events) -> anyhow::Result<()> {
    let rows = rows_of(events);
    let text = |v: &Value, field: &str| v[field].as_str().unwrap_or_default().to_string();
    let number = |v: &Value, field: &str| v[field].as_i64().unwrap_or_default();
    match service {
        "payments" => {
            let mut conn = MySqlConnection::connect(url).await?;
            conn.execute("drop table if exists payments").await?;
            conn.execute(PAYMENTS_TABLE).await?;
            for row in &rows {
                let (order, seen, _) = &row.references["payment.order"];
                sqlx::query("insert into payments values (?, ?, ?, ?, ?)")
                    .bind(&row.key)
                    .bind(number(&row.data, "amount"))
                    .bind(order)
                    .bind(seen.naive_utc())
                    .bind(row.at.naive_utc())
                    .execute(&mut conn)
                    .await?;
            }
        }
        "customers" => {
            let mut conn = PgConnection::connect(url).await?;
            conn.execute("drop table if exists customers").await?;
            conn.execute(CUSTOMERS_TABLE).await?;
            for row in &rows {
                sqlx::query("insert into customers values ($1, $2, $3, $4)")
                    .bind(&row.key)
                    .bind(text(&row.data, "name"))
                    .bind(text(&row.data, "city"))
                    .bind(row.at)
                    .execute(&mut conn)
                    .await?;
            }
        }
        "orders" => {
            let mut conn = PgConnection::connect(url).await?;
            conn.execute("drop table if exists orders").await?;
            conn.execute(ORDERS_TABLE).await?;
            for row in &rows {
                let (customer, customer_seen, _) = &row.references["order.customer"];
                let (product, product_seen, copy) = &row.references["order.product"];
                let copy = copy.clone().unwrap_or(Value::Null);
                sqlx::query("insert into orders values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)")
                    .bind(&row.key)
                    .bind(text(&row.data, "status"))
                    .bind(number(&row.data, "total") as i32)
                    .bind(customer)
                    .bind(customer_seen)
                    .bind(product)
                    .bind(product_seen)
                    .bind(text(&copy, "name"))
                    .bind(number(&copy, "price") as i32)
                    .bind(row.at)
                    .execute(&mut conn)
                    .await?;
            }
        }
        other => bail!("{other} has no database in the live demo"),
    }
    Ok(())
}

/// The collector of one demo service (the README's config, in code).
fn collector(settings: &Settings, service: &str, lockstep: &str, token: &str) -> ServiceConfig {
    let query = |relation: Option<&str>, sql: &str, extra: &[&str]| Query {
        relation: relation.map(str::to_string),
        sql: sql.to_string(),
        extra: extra.iter().map(|c| c.to_string()).collect(),
        field: format!("demo.{service}"),
    };
    let (entities, references) = match service {
        "customers" => (
            query(None, "select key, updated_at, name, city from customers", &["name", "city"]),
            vec![],
        ),
        "orders" => (
            query(None, "select key, updated_at, status, total from orders", &["status", "total"]),
            vec![
                query(
                    Some("order.customer"),
                    "select key as from_key, customer_key as to_key, customer_seen_at as observed_at from orders",
                    &[],
                ),
                query(
                    Some("order.product"),
                    "select key as from_key, product_key as to_key, product_seen_at as observed_at,
                            product_name as name, product_price as price from orders",
                    &["name", "price"],
                ),
            ],
        ),
        _ => (
            query(None, "select `key`, updated_at, amount from payments", &["amount"]),
            ["payment.order", "payment.ledger"]
                .map(|relation| {
                    query(
                        Some(relation),
                        "select `key` as from_key, order_key as to_key, order_seen_at as observed_at, updated_at from payments",
                        &[],
                    )
                })
                .to_vec(),
        ),
    };
    ServiceConfig {
        service: service.to_string(),
        lockstep: lockstep.to_string(),
        token: token.to_string(),
        database: settings.url(service).to_string(),
        origin: format!("the live demo's {service}"),
        collector: "live demo".into(),
        poll: (settings.tick / 2).max(Duration::from_secs(1)),
        snapshot: settings.tick * 4,
        batch: 10_000,
        overlap: Duration::from_secs(1),
        entities,
        references,
    }
}

/// A real dump of the service's database, recorded as its backup at the
/// time the dump began (straight into Lockstep's database: at start-up the
/// server does not listen yet); the dump's path.
async fn backup(pool: &PgPool, settings: &Settings, service: &str) -> anyhow::Result<String> {
    let url = settings.url(service);
    let stamp = Utc::now().format("%Y%m%dT%H%M%S%.3f");
    let (dump, command) = if is_mysql(url) {
        let dump = settings.dir.join(format!("backups/{service}-{stamp}.sql"));
        let line = format!(
            "mysqldump {} --single-transaction > {}",
            mysql_client(url)?,
            shell_quote(&dump)
        );
        (dump, vec!["sh".to_string(), "-c".to_string(), line])
    } else {
        let dump = settings.dir.join(format!("backups/{service}-{stamp}.dump"));
        let command = vec![
            "pg_dump".to_string(),
            "--format=custom".to_string(),
            format!("--file={}", dump.display()),
            url.to_string(),
        ];
        (dump, command)
    };
    let label = format!(
        "demo dump {}",
        dump.file_name().unwrap_or_default().to_string_lossy()
    );
    match crate::backup_run::run_command(service, &command).await? {
        Some((started, 0)) => {
            let target = app::inventory::db::find_service(pool, service).await?;
            app::inventory::db::record_backup(pool, target, started, Some(&label)).await?;
        }
        _ => bail!("the backup of {service} failed: {}", command.join(" ")),
    }
    Ok(dump.to_string_lossy().into_owned())
}

/// `--host … --port … --user … [--password=…] DATABASE` for the MySQL
/// client tools, from a `mysql://user:password@host:port/database` URL.
pub fn mysql_client(url: &str) -> anyhow::Result<String> {
    let rest = url.split_once("://").map(|(_, r)| r).unwrap_or(url);
    let (credentials, rest) = rest.rsplit_once('@').unwrap_or(("root", rest));
    let (address, database) = rest
        .split_once('/')
        .ok_or_else(|| anyhow!("{url}: no database name"))?;
    let database = database.split('?').next().unwrap_or_default();
    let (host, port) = address.split_once(':').unwrap_or((address, "3306"));
    let (user, password) = credentials
        .split_once(':')
        .map_or((credentials, None), |(u, p)| (u, Some(p)));
    let mut line = format!(
        "--host={} --port={} --user={}",
        shell_quote(Path::new(host)),
        shell_quote(Path::new(port)),
        shell_quote(Path::new(user))
    );
    if let Some(password) = password {
        line.push_str(&format!(" --password={}", shell_quote(Path::new(password))));
    }
    line.push(' ');
    line.push_str(&shell_quote(Path::new(database)));
    Ok(line)
}

fn shell_quote(text: &Path) -> String {
    format!("'{}'", text.to_string_lossy().replace('\'', r"'\''"))
}

/// The shop at work: every tick a new order, paid a moment later; every
/// third tick an older order ships. Order numbers count on from the newest
/// at start and never go back (a restore does not make the shop reuse
/// them). A failed tick (a database being restored) is logged and the next
/// one tried.
async fn workload(settings: Settings) {
    let mut next = match newest_order(&settings).await {
        Ok(newest) => newest + 1,
        Err(error) => {
            tracing::warn!(error = format!("{error:#}"), "live demo: no workload");
            return;
        }
    };
    loop {
        tokio::time::sleep(settings.tick).await;
        match write_once(&settings, next).await {
            Ok(()) => next += 1,
            Err(error) => {
                tracing::warn!(
                    error = format!("{error:#}"),
                    "live demo: the workload's write failed"
                )
            }
        }
    }
}

async fn newest_order(settings: &Settings) -> anyhow::Result<i64> {
    let mut orders = PgConnection::connect(settings.url("orders")).await?;
    Ok(sqlx::query_scalar(
        "select coalesce(max(substr(key, 3)::bigint), 0) from orders where key like 'O/%'",
    )
    .fetch_one(&mut orders)
    .await?)
}

async fn write_once(settings: &Settings, next: i64) -> anyhow::Result<()> {
    let mut orders = PgConnection::connect(settings.url("orders")).await?;
    let key = format!("O/{next}");
    let (customer, product) = (next % 28 + 1, next % 20 + 1);
    let now = Utc::now();
    sqlx::query("insert into orders values ($1, 'placed', $2, $3, $4, $5, $4, $6, $7, $4)")
        .bind(&key)
        .bind(20 + next as i32)
        .bind(format!("C/{customer}"))
        .bind(now)
        .bind(format!("P/{product}"))
        .bind(format!("Product {product}"))
        .bind(10 + product as i32)
        .execute(&mut orders)
        .await?;
    if next % 3 == 0 {
        sqlx::query(
            "update orders set status = 'shipped', updated_at = $1
             where key = (select key from orders where status = 'placed' order by random() limit 1)",
        )
        .bind(now)
        .execute(&mut orders)
        .await?;
    }
    let mut payments = MySqlConnection::connect(settings.url("payments")).await?;
    sqlx::query("insert into payments values (?, ?, ?, ?, ?)")
        .bind(&key)
        .bind(20 + next)
        .bind(&key)
        .bind(now.naive_utc())
        .bind((now + chrono::Duration::milliseconds(5)).naive_utc())
        .execute(&mut payments)
        .await?;
    Ok(())
}

/// `lockstep demo disaster SERVICE`: restores the live demo's service from
/// its latest dump with the real restore tool. Only the live demo's own
/// databases (its state file names them) can be restored this way.
pub async fn disaster(dir: &Path, service: &str) -> anyhow::Result<()> {
    let state_file = dir.join("live.json");
    let state: Value =
        serde_json::from_str(&std::fs::read_to_string(&state_file).with_context(|| {
            format!(
                "no live demo here: {} is missing (run scripts/run.sh first)",
                state_file.display()
            )
        })?)?;
    let Some(entry) = state.get(service) else {
        bail!(
            "{service} is not one of the live demo's databases ({}); the disaster only restores demo data",
            COLLECTED.join(", ")
        );
    };
    let (url, dump) = (
        entry["database"].as_str().unwrap_or_default(),
        entry["dump"].as_str().unwrap_or_default(),
    );
    let status = if is_mysql(url) {
        let line = format!(
            "mysql {} < {}",
            mysql_client(url)?,
            shell_quote(Path::new(dump))
        );
        tokio::process::Command::new("sh")
            .args(["-c", &line])
            .status()
            .await?
    } else {
        tokio::process::Command::new("pg_restore")
            .args([
                "--clean",
                "--if-exists",
                "--single-transaction",
                "--dbname",
                url,
                dump,
            ])
            .status()
            .await?
    };
    if !status.success() {
        bail!("restoring {service} from {dump} failed ({status})");
    }
    println!(
        "{service} restored from {dump}: everything it wrote since is gone. Lockstep's collector will notice at its next snapshot; see /restores."
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_settings_name_every_collected_service() {
        let list = "orders=postgres://h/o, customers=postgres://h/c,payments=mysql://root@h:3306/p";
        let settings = Settings::parse(list, None, Some("2".into())).unwrap();
        assert_eq!(settings.url("payments"), "mysql://root@h:3306/p");
        assert_eq!(settings.tick, Duration::from_secs(2));
        assert_eq!(settings.dir, PathBuf::from(".data/demo"));
        let missing = Settings::parse("orders=postgres://h/o", None, None).unwrap_err();
        assert!(missing.to_string().contains("customers"), "{missing}");
    }

    #[test]
    fn mysql_urls_become_client_arguments() {
        assert_eq!(
            mysql_client("mysql://ada:s3cret@127.0.0.1:33069/shop").unwrap(),
            "--host='127.0.0.1' --port='33069' --user='ada' --password='s3cret' 'shop'"
        );
        assert_eq!(
            mysql_client("mysql://root@db/shop").unwrap(),
            "--host='db' --port='3306' --user='root' 'shop'"
        );
    }
}
