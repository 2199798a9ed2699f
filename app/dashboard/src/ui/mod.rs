//! The dashboard's pages: Leptos rendered on the server only. Every page is
//! complete HTML; every action is a form posting to a server function
//! (`actions`), which the web layer answers with a redirect and a one-time
//! message, so all of it works without JavaScript. `dashboard.js` only
//! enhances (auto-refresh, select-all, confirmations, continuing a redrive).

pub mod access;
pub mod actions;
pub mod assets;
pub mod downloads;
pub mod format;
pub mod layout;
pub mod pages;

use leptos::prelude::*;
use leptos_meta::{MetaTags, provide_meta_context};
use leptos_router::components::{Route, Router as LeptosRouter, Routes};
use leptos_router::{SsrMode, path};

use crate::Dashboard;
use crate::auth::Level;
use crate::request::Endpoint;
use access::{Action, Denied, Granted, Page};
use downloads::Download;
use layout::Layout;
use pages::{
    ActivityPage, DeadLetterPage, DeadLettersPage, LoginPage, NotFound, NotNotifiedPage, OrderPage,
    OrdersPage, OverviewPage, ProductsPage, QueuesPage, SubscriptionsPage, UsersPage,
};

/// Every page and action the dashboard serves, with the level each declares.
/// The router is built from this list alone; start-up fails when `App` or
/// the server-function registry has an endpoint that is not here.
pub const ENDPOINTS: &[Endpoint] = &[
    page::<LoginPage>(),
    page::<OverviewPage>(),
    page::<OrdersPage>(),
    page::<OrderPage>(),
    page::<QueuesPage>(),
    page::<DeadLettersPage>(),
    page::<SubscriptionsPage>(),
    page::<UsersPage>(),
    page::<ProductsPage>(),
    page::<ActivityPage>(),
    page::<NotNotifiedPage>(),
    page::<DeadLetterPage>(),
    download::<downloads::OrdersCsv>(),
    download::<downloads::DeadLetterBody>(),
    download::<downloads::ProductsCsv>(),
    action::<actions::Login>(),
    action::<actions::Logout>(),
    action::<actions::RedriveDeadLetters>(),
    action::<actions::DeleteDeadLetters>(),
    action::<actions::EditDeadLetter>(),
    action::<actions::ResendEmails>(),
    action::<actions::AddSubscription>(),
    action::<actions::RemoveSubscription>(),
    action::<actions::SetSubscriptionFilter>(),
    action::<actions::SendTestNotification>(),
    action::<actions::AddUser>(),
    action::<actions::SetUserRole>(),
    action::<actions::ResetUserPassword>(),
    action::<actions::SetUserDisabled>(),
    action::<actions::SaveProduct>(),
    action::<actions::SetProductActive>(),
    action::<actions::ImportProducts>(),
];

/// The endpoint of page `P`, with the level it declares.
pub const fn page<P: Page>() -> Endpoint {
    Endpoint::Page {
        path: P::PATH,
        access: <P::Needs as Level>::ACCESS,
    }
}

/// The endpoint of action `A`, with the level it declares.
pub const fn action<A: Action>() -> Endpoint {
    Endpoint::Action {
        path: A::PATH,
        access: <A::Needs as Level>::ACCESS,
        page: A::PAGE,
    }
}

/// The endpoint of download `D`, with the level it declares.
pub const fn download<D: Download>() -> Endpoint {
    Endpoint::Download {
        path: D::PATH,
        access: <D::Needs as Level>::ACCESS,
        serve: downloads::serve::<D>,
    }
}

/// Renders page `P` if the visitor may see it (the route's `view`).
pub fn gated<P: Page>() -> AnyView {
    match Granted::<P::Needs>::check() {
        Ok(granted) => P::view(granted),
        Err(Denied::SignIn) => {
            if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
                let here = use_context::<axum::http::request::Parts>()
                    .and_then(|parts| parts.uri.path_and_query().map(|p| p.to_string()))
                    .unwrap_or_else(|| "/".to_owned());
                let next = serde_urlencoded::to_string([("next", here)]).unwrap_or_default();
                response.set_status(axum::http::StatusCode::SEE_OTHER);
                if let Ok(location) = axum::http::HeaderValue::from_str(&format!("/login?{next}")) {
                    response.insert_header(axum::http::header::LOCATION, location);
                }
            }
            ().into_any()
        }
        Err(Denied::NotAllowed { needs, .. }) => layout::not_allowed(needs).into_any(),
    }
}

pub fn shell() -> impl IntoView {
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8"/>
                <meta name="viewport" content="width=device-width, initial-scale=1"/>
                <meta name="color-scheme" content="light dark"/>
                <link rel="stylesheet" href=assets::url("dashboard.css")/>
                <link rel="icon" type="image/svg+xml" href=assets::url("favicon.svg")/>
                <script src=assets::url("dashboard.js") defer></script>
                <MetaTags/>
            </head>
            <body>
                <App/>
            </body>
        </html>
    }
}

#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    view! {
        <LeptosRouter>
            <Layout>
                <Routes fallback=NotFound>
                    <Route path=path!("/login") view={gated::<LoginPage>} ssr=SsrMode::Async/>
                    <Route path=path!("/") view={gated::<OverviewPage>} ssr=SsrMode::Async/>
                    <Route path=path!("/orders") view={gated::<OrdersPage>} ssr=SsrMode::Async/>
                    <Route path=path!("/orders/:order_id") view={gated::<OrderPage>} ssr=SsrMode::Async/>
                    <Route path=path!("/queues") view={gated::<QueuesPage>} ssr=SsrMode::Async/>
                    <Route path=path!("/dead-letters") view={gated::<DeadLettersPage>} ssr=SsrMode::Async/>
                    <Route path=path!("/dead-letters/:message_id") view={gated::<DeadLetterPage>} ssr=SsrMode::Async/>
                    <Route path=path!("/not-notified") view={gated::<NotNotifiedPage>} ssr=SsrMode::Async/>
                    <Route path=path!("/subscriptions") view={gated::<SubscriptionsPage>} ssr=SsrMode::Async/>
                    <Route path=path!("/users") view={gated::<UsersPage>} ssr=SsrMode::Async/>
                    <Route path=path!("/products") view={gated::<ProductsPage>} ssr=SsrMode::Async/>
                    <Route path=path!("/activity") view={gated::<ActivityPage>} ssr=SsrMode::Async/>
                </Routes>
            </Layout>
        </LeptosRouter>
    }
}

/// The dashboard's services, as pages and actions get them.
pub fn dashboard() -> Dashboard {
    expect_context::<Dashboard>()
}
