//! The admin dashboard: Leptos rendered on the server only. Every page is
//! complete HTML; every action is a form posting to a server function that
//! redirects back with a flash message, so all of it works without
//! JavaScript. `dashboard.js` only enhances (local times, auto-refresh,
//! select-all).

pub mod actions;
pub mod assets;
pub mod flash;
pub mod format;
mod layout;
pub mod pages;

use axum::Router;
use axum::routing::get;
use leptos::prelude::*;
use leptos_axum::{LeptosRoutes, generate_route_list};
use leptos_meta::{MetaTags, provide_meta_context};
use leptos_router::components::{Route, Router as LeptosRouter, Routes};
use leptos_router::{SsrMode, path};

use crate::Dashboard;
use layout::Layout;
use pages::{
    ActivityPage, DeadLettersPage, LoginPage, NotFound, OrderPage, OrdersPage, OverviewPage,
    QueuesPage, SubscriptionsPage, UsersPage,
};

/// The dashboard's routes: pages, server functions and assets.
pub fn router(dashboard: Dashboard) -> Router {
    let options = LeptosOptions::builder()
        .output_name("dashboard")
        .site_pkg_dir("pkg")
        .build();
    let routes = generate_route_list(App);
    let guard_state = dashboard.auth.clone();
    let context = move || provide_context(dashboard.clone());
    let page_options = options.clone();
    let app = move || shell(page_options.clone());
    // Any other path renders the app too, whose router answers "not found".
    let not_found = leptos_axum::render_app_async_with_context(context.clone(), app.clone());
    Router::new()
        .leptos_routes_with_context(&options, routes, context, app)
        .route(&format!("{}/{{file}}", assets::PREFIX), get(assets::serve))
        .route("/favicon.ico", get(assets::favicon))
        .fallback(not_found)
        .layer(axum::middleware::from_fn_with_state(
            guard_state,
            crate::auth::web::guard,
        ))
        .with_state(options)
}

pub fn shell(_options: LeptosOptions) -> impl IntoView {
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
                    <Route path=path!("/") view=OverviewPage ssr=SsrMode::Async/>
                    <Route path=path!("/orders") view=OrdersPage ssr=SsrMode::Async/>
                    <Route path=path!("/orders/:order_id") view=OrderPage ssr=SsrMode::Async/>
                    <Route path=path!("/queues") view=QueuesPage ssr=SsrMode::Async/>
                    <Route path=path!("/dead-letters") view=DeadLettersPage ssr=SsrMode::Async/>
                    <Route path=path!("/subscriptions") view=SubscriptionsPage ssr=SsrMode::Async/>
                    <Route path=path!("/users") view=UsersPage ssr=SsrMode::Async/>
                    <Route path=path!("/activity") view=ActivityPage ssr=SsrMode::Async/>
                    <Route path=path!("/login") view=LoginPage ssr=SsrMode::Async/>
                </Routes>
            </Layout>
        </LeptosRouter>
    }
}

/// The dashboard state, as the pages and server functions get it.
pub fn dashboard() -> Dashboard {
    expect_context::<Dashboard>()
}
