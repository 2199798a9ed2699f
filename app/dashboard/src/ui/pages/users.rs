//! `/users`: who may use the dashboard, and with which role (admins only).
//! An admin's own row offers a password change only: the service refuses
//! changing one's own role or access, so the page does not offer it.

use leptos::prelude::*;
use leptos::server_fn::ServerFn;

use super::widgets::{Confirm, Csrf, FieldProblem, Heading, Problem, invalid, kept, problem_id};
use crate::auth::users::User;
use crate::auth::{Admin, Role};
use crate::ui::access::{Granted, Page};
use crate::ui::actions::{AddUser, ResetUserPassword, SetUserDisabled, SetUserRole};
use crate::ui::dashboard;

pub struct UsersPage;

impl Page for UsersPage {
    type Needs = Admin;
    const PATH: &'static str = "/users";

    fn view(granted: Granted<Admin>) -> AnyView {
        let me = granted.user().email.clone();
        view! {
            <Heading title="Users".to_owned() subtitle="Viewers see orders; operators also handle queues and dead letters; admins also manage notifications and users.".to_owned()/>
            {Suspend::new(async move {
                match dashboard().auth.users.list().await {
                    Ok(users) => users_view(users, me).into_any(),
                    Err(error) => view! { <Problem error=error.into()/> }.into_any(),
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

fn users_view(users: Vec<User>, me: String) -> impl IntoView + use<> {
    let kept_role = kept(AddUser::PATH, "role")
        .and_then(|role| Role::parse(&role))
        .unwrap_or(Role::Viewer);
    view! {
        <section class="card">
            <h2>"Add a user"</h2>
            <form method="post" action=AddUser::PATH class="row">
                <Csrf/>
                <label>
                    "Email"
                    <input type="email" name="email" required=true autocomplete="username" value=kept(AddUser::PATH, "email")
                        aria-invalid=invalid(AddUser::PATH, "email") aria-describedby=problem_id(AddUser::PATH, "email")/>
                    <FieldProblem action=AddUser::PATH field="email"/>
                </label>
                <label>"Role" <select name="role">{role_options(kept_role)}</select></label>
                <label>
                    "First password (12+ characters)"
                    <input type="password" name="password" required=true minlength="12" autocomplete="new-password"
                        aria-invalid=invalid(AddUser::PATH, "password") aria-describedby=problem_id(AddUser::PATH, "password")/>
                    <FieldProblem action=AddUser::PATH field="password"/>
                </label>
                <button type="submit">"Add"</button>
            </form>
        </section>
        <div class="table-wrap">
            <table class="stack-on-phone">
                <thead>
                    <tr>
                        <th scope="col">"User"</th>
                        <th scope="col">"Role"</th>
                        <th scope="col">"Password"</th>
                        <th scope="col">"Access"</th>
                    </tr>
                </thead>
                <tbody>{users.into_iter().map(|user| user_row(user, &me)).collect_view()}</tbody>
            </table>
        </div>
    }
}

fn user_row(user: User, me: &str) -> impl IntoView + use<> {
    let email = user.email.clone();
    let is_me = email == me;
    let role_cell = if is_me {
        view! { <span>{user.role.as_str()}</span> " " <span class="muted small">"(another admin can change your role)"</span> }.into_any()
    } else {
        view! {
            <form method="post" action=SetUserRole::PATH class="row compact">
                <Csrf/>
                <input type="hidden" name="email" value=email.clone()/>
                <label><span class="visually-hidden">{format!("Role of {email}")}</span><select name="role">{role_options(user.role)}</select></label>
                <button type="submit" class="quiet">"Change"<span class="visually-hidden">{format!(" the role of {email}")}</span></button>
            </form>
        }
        .into_any()
    };
    let access_cell = if is_me {
        view! { <span class="muted small">"you"</span> }.into_any()
    } else if user.disabled {
        view! {
            <form method="post" action=SetUserDisabled::PATH>
                <Csrf/>
                <input type="hidden" name="email" value=email.clone()/>
                <input type="hidden" name="disabled" value="false"/>
                <button type="submit" class="quiet">"Enable"<span class="visually-hidden">{format!(" {email}")}</span></button>
            </form>
        }
        .into_any()
    } else {
        view! {
            <form method="post" action=SetUserDisabled::PATH>
                <Csrf/>
                <input type="hidden" name="email" value=email.clone()/>
                <input type="hidden" name="disabled" value="true"/>
                <Confirm
                    open="Disable".to_owned()
                    on=email.clone()
                    question=format!("Disable {email}? They are signed out at once and cannot sign in until enabled again.")
                    confirm="Yes, disable".to_owned()
                    danger=true
                />
            </form>
        }
        .into_any()
    };
    view! {
        <tr>
            <th scope="row" data-label="User">
                <span>
                    {email.clone()}
                    {is_me.then(|| view! { " " <span class="badge">"you"</span> })}
                    {user.disabled.then(|| view! { " " <span class="badge stored">"disabled"</span> })}
                    <br/><span class="muted small">{format!("since {}", user.created_at.get(..10).unwrap_or_default())}</span>
                </span>
            </th>
            <td data-label="Role">{role_cell}</td>
            <td data-label="Password">
                <form method="post" action=ResetUserPassword::PATH class="row compact">
                    <Csrf/>
                    <input type="hidden" name="email" value=email.clone()/>
                    // For password managers: whose password this is.
                    <input type="email" autocomplete="username" value=email.clone() hidden=true readonly=true/>
                    <label><span class="visually-hidden">{format!("New password for {email}")}</span><input type="password" name="password" required=true minlength="12" placeholder="new password" autocomplete="new-password"/></label>
                    <button type="submit" class="quiet">"Reset"<span class="visually-hidden">{format!(" the password of {email}")}</span></button>
                </form>
            </td>
            <td data-label="Access">{access_cell}</td>
        </tr>
    }
}
