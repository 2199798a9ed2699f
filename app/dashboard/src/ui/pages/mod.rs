//! One module a page, each with its loader (AWS calls) apart from its view
//! (pure rendering of loaded data), so views render in benchmarks and tests
//! without AWS.

pub mod activity;
pub mod dead_letter;
pub mod dead_letters;
pub mod login;
pub mod not_notified;
pub mod order;
pub mod orders;
pub mod overview;
pub mod products;
pub mod queues;
pub mod subscriptions;
pub mod users;
pub mod widgets;

pub use activity::ActivityPage;
pub use dead_letter::DeadLetterPage;
pub use dead_letters::DeadLettersPage;
pub use login::LoginPage;
pub use not_notified::NotNotifiedPage;
pub use order::OrderPage;
pub use orders::OrdersPage;
pub use overview::OverviewPage;
pub use products::ProductsPage;
pub use queues::QueuesPage;
pub use subscriptions::SubscriptionsPage;
pub use users::UsersPage;
pub use widgets::NotFound;
