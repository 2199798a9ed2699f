//! `/login`: the one page open to everyone.

use leptos::prelude::*;

use crate::auth::Public;
use crate::ui::access::{Granted, Page};
use leptos::server_fn::ServerFn;
use leptos_router::hooks::use_query_map;

use super::widgets::{Heading, kept};
use crate::ui::actions::Login;

pub struct LoginPage;

impl Page for LoginPage {
    type Needs = Public;
    const PATH: &'static str = "/login";

    fn view(_granted: Granted<Public>) -> AnyView {
        let next = use_query_map()
            .get_untracked()
            .get("next")
            .unwrap_or_else(|| "/".to_owned());
        // A refused sign-in is about both fields: say so to assistive technology.
        let refused = crate::request::flash::current()
            .is_some_and(|flash| flash.kind == crate::request::flash::Kind::Error);
        let invalid = refused.then_some("true");
        let described = refused.then_some(crate::request::flash::MESSAGE_ID);
        view! {
        <Heading title="Sign in".to_owned() subtitle="The order dashboard is for the shop's staff.".to_owned()/>
        <section class="card narrow">
            <form method="post" action=Login::PATH class="stack">
                <input type="hidden" name="next" value=next/>
                <label>"Email" <input type="email" name="email" required=true autocomplete="username" autofocus=true value=kept(Login::PATH, "email") aria-invalid=invalid aria-describedby=described/></label>
                <label>"Password" <input type="password" name="password" required=true autocomplete="current-password" aria-invalid=invalid aria-describedby=described/></label>
                <button type="submit">"Sign in"</button>
            </form>
            <p class="muted small">"Forgot your password? An admin can set a new one for you."</p>
        </section>
    }
        .into_any()
    }
}
