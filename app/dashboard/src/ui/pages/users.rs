//! `/users`: who may use the dashboard, and with which role (admins only).

use leptos::prelude::*;

use crate::auth::Admin;
use crate::ui::access::{Granted, Page};
use leptos::server_fn::ServerFn;

use super::widgets::{Csrf, Heading, Problem};
use crate::auth::Role;
use crate::auth::users::User;
use crate::ui::actions::{AddUser, ResetUserPassword, SetUserDisabled, SetUserRole};
use crate::ui::dashboard;

pub struct UsersPage;

impl Page for UsersPage {
    type Needs = Admin;
    const PATH: &'static str = "/users";

    fn view(_granted: Granted<Admin>) -> AnyView {
        view! {
        <Heading title="Users".to_owned() subtitle="Viewers see orders; operators also handle queues and dead letters; admins also manage notifications and users.".to_owned()/>
        {Suspend::new(async move {
            match dashboard().auth.users.list().await {
                Ok(users) => users_view(users).into_any(),
                Err(error) => view! { <Problem message=error.to_string()/> }.into_any(),
            }
        })}
    }
        .into_any()
    }
}

fn role_options(selected: Role) -> impl IntoView {
    Role::ALL
        .into_iter()
        .map(|role| view! { <option value=role.as_str() selected=role == selected>{format!("{role}: {}", role.describe())}</option> })
        .collect_view()
}

fn users_view(users: Vec<User>) -> impl IntoView + use<> {
    view! {
        <section class="card">
            <h2>"Add a user"</h2>
            <form method="post" action=AddUser::PATH class="row">
                <Csrf/>
                <label>"Email" <input type="email" name="email" required=true autocomplete="off"/></label>
                <label>"Role" <select name="role">{role_options(Role::Viewer)}</select></label>
                <label>"First password (12+ characters)" <input type="password" name="password" required=true minlength="12" autocomplete="new-password"/></label>
                <button type="submit">"Add"</button>
            </form>
        </section>
        <div class="table-wrap">
            <table>
                <thead>
                    <tr>
                        <th scope="col">"User"</th>
                        <th scope="col">"Role"</th>
                        <th scope="col">"Password"</th>
                        <th scope="col">"Access"</th>
                    </tr>
                </thead>
                <tbody>{users.into_iter().map(user_row).collect_view()}</tbody>
            </table>
        </div>
    }
}

fn user_row(user: User) -> impl IntoView + use<> {
    let email = user.email.clone();
    let (toggle_label, toggle_value) = if user.disabled {
        ("Enable", "false")
    } else {
        ("Disable…", "true")
    };
    view! {
        <tr>
            <td>
                {email.clone()}
                {user.disabled.then(|| view! { " " <span class="badge stored">"disabled"</span> })}
                <br/><span class="muted small">{format!("since {}", user.created_at.get(..10).unwrap_or_default())}</span>
            </td>
            <td>
                <form method="post" action=SetUserRole::PATH class="row compact">
                    <Csrf/>
                    <input type="hidden" name="email" value=email.clone()/>
                    <label><span class="visually-hidden">"Role"</span><select name="role">{role_options(user.role)}</select></label>
                    <button type="submit" class="quiet">"Change"</button>
                </form>
            </td>
            <td>
                <form method="post" action=ResetUserPassword::PATH class="row compact">
                    <Csrf/>
                    <input type="hidden" name="email" value=email.clone()/>
                    <label><span class="visually-hidden">"New password"</span><input type="password" name="password" required=true minlength="12" placeholder="new password" autocomplete="new-password"/></label>
                    <button type="submit" class="quiet">"Reset"</button>
                </form>
            </td>
            <td>
                <form method="post" action=SetUserDisabled::PATH>
                    <Csrf/>
                    <input type="hidden" name="email" value=email.clone()/>
                    <input type="hidden" name="disabled" value=toggle_value/>
                    {if user.disabled {
                        view! { <button type="submit" class="quiet">{toggle_label}</button> }.into_any()
                    } else {
                        view! {
                            <details class="confirm">
                                <summary class="button danger">{toggle_label}</summary>
                                <p>{format!("Disable {email}? They are signed out at once and cannot sign in until enabled again.")}</p>
                                <button type="submit" class="danger">"Yes, disable"</button>
                            </details>
                        }
                        .into_any()
                    }}
                </form>
            </td>
        </tr>
    }
}
