//! The login page, the users page (admins), and what the pages ask about
//! the signed-in user.

use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

use super::api::{audit_log, list_accounts, DeleteAccount, Login, SaveAccount};
use super::csrf::CsrfField;
use super::model::{AccountRow, CurrentUser, Permission, Role, ROLES};
use crate::components::{DataTable, ErrorNotice, PageHeader};

const INPUT: &str = "block w-full rounded-md border border-slate-300 bg-white px-3 py-1.5 text-sm dark:border-slate-700 dark:bg-slate-950";
const BUTTON: &str = "rounded-md bg-indigo-600 px-3 py-1.5 text-sm font-medium text-white hover:bg-indigo-500 disabled:opacity-50";
const TD: &str = "px-3 py-2 align-top";

/// The signed-in user of this page, provided by the app shell: read from
/// the request on the server, from the page's `lockstep-user` meta tag in
/// the browser (signing in or out reloads the page, so it never changes
/// under a rendered page).
#[derive(Debug, Clone, Default)]
pub struct User(pub Option<CurrentUser>);

pub fn current_user() -> Option<CurrentUser> {
    use_context::<User>().and_then(|u| u.0)
}

/// Whether the signed-in user may: the pages hide what they may not do
/// (the server refuses it anyway).
pub fn may(permission: Permission) -> bool {
    current_user().is_some_and(|u| u.may(permission))
}

/// The meta tag's name.
pub const USER_META: &str = "lockstep-user";

/// The user the page was rendered for.
pub fn page_user() -> Option<CurrentUser> {
    #[cfg(feature = "ssr")]
    {
        use_context::<axum::http::request::Parts>()
            .and_then(|parts| parts.extensions.get::<super::session::SignedIn>().cloned())
            .and_then(|s| s.0)
    }
    #[cfg(not(feature = "ssr"))]
    {
        let content = document()
            .query_selector(&format!("meta[name={USER_META}]"))
            .ok()
            .flatten()?
            .get_attribute("content")?;
        serde_json::from_str(&content).ok()
    }
}

/// A plain form posted to the `login` server function: it signs in before
/// the WASM loads (and without it), and with it, without a page load until
/// the signed-in one.
#[component]
pub fn LoginPage() -> impl IntoView {
    let query = use_query_map();
    let next = Signal::derive(move || query.with(|q| q.get("next")));
    let login = ServerAction::<Login>::new();
    // A full reload after signing in: the shell renders for the new user.
    Effect::new(move |_| {
        if let Some(Ok(())) = login.value().get() {
            let target = super::api::safe_next(next.get_untracked().as_deref());
            let _ = window().location().set_href(&target);
        }
    });
    view! {
        <div class="mx-auto mt-12 max-w-sm">
            <PageHeader title="Sign in" subtitle="Lockstep keeps who changed what: sign in with your own account." />
            <ActionForm
                action=login
                attr:class="space-y-4 rounded-xl border border-slate-200 bg-white p-6 dark:border-slate-800 dark:bg-slate-900"
            >
                <CsrfField />
                <input type="hidden" name="next" value=move || next.get().unwrap_or_default() />
                <label class="block text-sm font-medium">
                    "Name"
                    <input
                        data-testid="login-name"
                        class=INPUT
                        name="name"
                        autocomplete="username"
                        required
                        autofocus
                    />
                </label>
                <label class="block text-sm font-medium">
                    "Password"
                    <input
                        data-testid="login-password"
                        class=INPUT
                        type="password"
                        name="password"
                        autocomplete="current-password"
                        required
                    />
                </label>
                <button type="submit" data-testid="login-submit" class=BUTTON prop:disabled=move || login.pending().get()>
                    {move || if login.pending().get() { "Signing in…" } else { "Sign in" }}
                </button>
                {move || login.value().get().and_then(Result::err).map(|error| view! { <ErrorNotice error /> })}
            </ActionForm>
        </div>
    }
}

#[component]
pub fn UsersPage() -> impl IntoView {
    let save = ServerAction::<SaveAccount>::new();
    let delete = ServerAction::<DeleteAccount>::new();
    let accounts = Resource::new(
        move || (save.version().get(), delete.version().get()),
        |_| list_accounts(),
    );
    let audit = Resource::new(
        move || (save.version().get(), delete.version().get()),
        |_| audit_log(),
    );
    view! {
        <PageHeader title="Users" subtitle="Accounts and their roles: viewers read, operators work the queue and record restores, architects change the topology, admins manage accounts." />
        {move || save.value().get().and_then(Result::err).map(|error| view! { <div class="mb-4"><ErrorNotice error /></div> })}
        {move || delete.value().get().and_then(Result::err).map(|error| view! { <div class="mb-4"><ErrorNotice error /></div> })}
        <NewAccount save />
        <Transition fallback=|| view! { <p class="text-sm text-slate-600 dark:text-slate-400">"Loading accounts…"</p> }>
            {move || Suspend::new(async move {
                match accounts.await {
                    Ok(list) => accounts_table(list, save, delete).into_any(),
                    Err(error) => view! { <ErrorNotice error /> }.into_any(),
                }
            })}
        </Transition>
        <h2 class="mb-2 mt-8 text-lg font-medium">"Audit log"</h2>
        <Transition fallback=|| view! { <p class="text-sm text-slate-600 dark:text-slate-400">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match audit.await {
                    Ok(rows) => view! {
                        <DataTable headers=vec!["When", "Who", "Did", "What", "Detail"]>
                            {rows.into_iter().map(|r| view! {
                                <tr data-testid="audit-row">
                                    <td class=TD>{r.at.format("%Y-%m-%d %H:%M:%S UTC").to_string()}</td>
                                    <td class=TD>{r.actor}</td>
                                    <td class=TD>{r.action}</td>
                                    <td class=TD>{r.subject}</td>
                                    <td class="px-3 py-2 align-top font-mono text-xs">{r.detail.map(|d| d.to_string())}</td>
                                </tr>
                            }).collect_view()}
                        </DataTable>
                    }.into_any(),
                    Err(error) => view! { <ErrorNotice error /> }.into_any(),
                }
            })}
        </Transition>
    }
}

fn role_options(selected: Role) -> impl IntoView {
    ROLES
        .into_iter()
        .map(|role| {
            view! { <option value=role.as_str() selected=role == selected>{role.as_str()}</option> }
        })
        .collect_view()
}

#[component]
fn NewAccount(save: ServerAction<SaveAccount>) -> impl IntoView {
    let name = RwSignal::new(String::new());
    let password = RwSignal::new(String::new());
    let role = RwSignal::new(Role::Viewer);
    view! {
        <form
            class="mb-6 grid gap-3 rounded-xl border border-slate-200 bg-white p-4 sm:grid-cols-4 dark:border-slate-800 dark:bg-slate-900"
            on:submit=move |ev| {
                ev.prevent_default();
                save.dispatch(SaveAccount {
                    name: name.get_untracked(),
                    role: role.get_untracked(),
                    password: Some(password.get_untracked()),
                    create: true,
                });
                password.set(String::new());
            }
        >
            <label class="text-sm font-medium">"Name"
                <input data-testid="new-user-name" class=INPUT required prop:value=move || name.get() on:input=move |ev| name.set(event_target_value(&ev)) />
            </label>
            <label class="text-sm font-medium">"Role"
                <select data-testid="new-user-role" class=INPUT on:change=move |ev| {
                    if let Some(r) = Role::parse(&event_target_value(&ev)) { role.set(r) }
                }>
                    {role_options(Role::Viewer)}
                </select>
            </label>
            <label class="text-sm font-medium">"Password"
                <input data-testid="new-user-password" class=INPUT type="password" autocomplete="new-password" required minlength="8"
                    prop:value=move || password.get() on:input=move |ev| password.set(event_target_value(&ev)) />
            </label>
            <div class="flex items-end">
                <button type="submit" data-testid="new-user-submit" class=BUTTON>"Add account"</button>
            </div>
        </form>
    }
}

fn accounts_table(
    list: Vec<AccountRow>,
    save: ServerAction<SaveAccount>,
    delete: ServerAction<DeleteAccount>,
) -> impl IntoView {
    let me = current_user().map(|u| u.name);
    view! {
        <DataTable headers=vec!["Name", "Role", "Since", ""]>
            {list.into_iter().map(|account| {
                let name = account.name.clone();
                let is_me = me.as_deref() == Some(name.as_str());
                let change = {
                    let name = name.clone();
                    move |ev: leptos::ev::Event| {
                        if let Some(role) = Role::parse(&event_target_value(&ev)) {
                            save.dispatch(SaveAccount { name: name.clone(), role, password: None, create: false });
                        }
                    }
                };
                let remove = {
                    let name = name.clone();
                    move |_| {
                        let sure = window()
                            .confirm_with_message(&format!("Delete the account {name}? Their sessions end at once."))
                            .unwrap_or(false);
                        if sure {
                            delete.dispatch(DeleteAccount { name: name.clone() });
                        }
                    }
                };
                view! {
                    <tr data-testid="user-row" data-name=name.clone()>
                        <td class=TD>{name.clone()}{is_me.then_some(" (you)")}</td>
                        <td class=TD>
                            <select aria-label=format!("Role of {name}") class=INPUT on:change=change>
                                {role_options(account.role)}
                            </select>
                        </td>
                        <td class=TD>{account.created_at.format("%Y-%m-%d").to_string()}</td>
                        <td class=TD>
                            <button type="button" class="text-sm text-red-700 underline dark:text-red-300" on:click=remove>"Delete"</button>
                        </td>
                    </tr>
                }
            }).collect_view()}
        </DataTable>
    }
}
