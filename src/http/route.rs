//! THE route table (`route_table!`). Everything that names the endpoints
//! (the axum router, the `api/` files, the `[[bin]]` entries, `vercel.json`,
//! the README, the OpenAPI document) derives from or is checked against it.
//! Each route also states its methods, its cache policy and whether it needs
//! a caller to authenticate, so no layer has to guess them.

use crate::auth::Role;

/// THE route table: one row per endpoint under `/api/v1`, in the order the
/// OpenAPI document lists them. A row is
///
/// `Name: spec(path, …) => method(handler), QueryParams;`
///
/// the [`Route`] variant; its [`RouteSpec`] (path, methods, cache policy,
/// access); the function in [`endpoints`](super::endpoints) that answers it
/// and the method it answers; and the type of the query parameters it
/// accepts. Each consumer hands in a macro that takes the rows and keeps
/// what it needs: the [`Route`] enum and its specs (here), the router and
/// the accepted parameters (`endpoints`), the OpenAPI paths (`openapi`).
/// So a new endpoint is this row, its handler, its service, its `api/` file
/// and `[[bin]]`, and its README row; the compiler names a missing handler,
/// and `tests/it/drift.rs` a missing file, `[[bin]]` or README row.
macro_rules! route_table {
    ($consumer:ident) => {
        $consumer! {
            Health: public_read("/api/v1/health", Revalidate) => get(health), NoParams;
            Books: public_read("/api/v1/books", Immutable) => get(books), BooksParams;
            BookById: public_read("/api/v1/books/{id}", Immutable) => get(book_by_id), BookIdQuery;
            BookSimilar: public_read("/api/v1/books/{id}/similar", Immutable) => get(similar), SimilarParams;
            BooksSearch: public_read("/api/v1/books/search", Immutable) => get(search), SearchParams;
            BooksTopRated: public_read("/api/v1/books/top-rated", Immutable) => get(top_rated), TopRatedParams;
            BooksPriceRange: public_read("/api/v1/books/price-range", Immutable) => get(price_range), PriceRangeParams;
            Categories: public_read("/api/v1/categories", Immutable) => get(categories), NoParams;
            StatsOverview: public_read("/api/v1/stats/overview", Immutable) => get(stats_overview), NoParams;
            StatsCategories: public_read("/api/v1/stats/categories", Immutable) => get(stats_categories), NoParams;
            MlTrainingData: public_read("/api/v1/ml/training-data", Immutable) => get(ml::training_data), TrainingDataParams;
            MlPredictions: public_write("/api/v1/ml/predictions") => post(ml::predictions), TopParams;
            MlModel: public_read("/api/v1/ml/model", Immutable) => get(ml::model), NoParams;
            MlFeatures: public_read("/api/v1/ml/features", Immutable) => get(ml::features), NoParams;
            AuthLogin: public_write("/api/v1/auth/login") => post(auth::login), NoParams;
            AuthToken: public_write("/api/v1/auth/token") => post(auth::token), NoParams;
            AuthRefresh: public_write("/api/v1/auth/refresh") => post(auth::refresh), NoParams;
            ScrapingTrigger: with_role("/api/v1/scraping/trigger", Methods::Write, Role::Admin) => post(scraping::trigger), NoParams;
            ScrapingStatus: with_role("/api/v1/scraping/status", Methods::Read, Role::Admin) => get(scraping::status), NoParams;
            OpenApi: public_read("/api/v1/openapi.json", Immutable) => get(openapi), NoParams;
        }
    };
}
pub(crate) use route_table;

/// The [`Route`] enum, [`Route::ALL`] and [`Route::spec`], from the table.
macro_rules! routes_and_specs {
    ($($name:ident: $spec:ident($($arg:expr),*) => $method:ident($($handler:ident)::+), $params:ident;)*) => {
        /// Every endpoint under `/api/v1`.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum Route {
            $($name,)*
        }

        impl Route {
            /// Every route, in the table's order.
            pub const ALL: [Route; [$(Route::$name),*].len()] = [$(Route::$name),*];

            /// The route's row of the table.
            pub const fn spec(self) -> RouteSpec {
                use CachePolicy::{Immutable, Revalidate};
                match self {
                    $(Route::$name => RouteSpec::$spec($($arg),*),)*
                }
            }
        }
    };
}
route_table!(routes_and_specs);

/// The prefix every API path starts with.
pub const API_PREFIX: &str = "/api/v1";

/// The request methods a route serves. `Read` is GET with its HEAD; OPTIONS
/// (the CORS preflight) is answered for every route.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Methods {
    /// GET and HEAD.
    Read,
    /// POST, with a JSON body.
    Write,
}

impl Methods {
    /// The `Allow` header value.
    pub const fn allow(self) -> &'static str {
        match self {
            Methods::Read => "GET, HEAD, OPTIONS",
            Methods::Write => "POST, OPTIONS",
        }
    }

    /// The methods served, OPTIONS aside (the CORS preflight lists these).
    pub fn served(self) -> &'static [http::Method] {
        static READ: [http::Method; 2] = [http::Method::GET, http::Method::HEAD];
        static WRITE: [http::Method; 1] = [http::Method::POST];
        match self {
            Methods::Read => &READ,
            Methods::Write => &WRITE,
        }
    }
}

/// How the answers of a route may be cached, and how they are validated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CachePolicy {
    /// Derived from the deployed data alone: a strong `ETag` from the data's
    /// hash and the request, 304 on a match, and a day at the edge.
    Immutable,
    /// About this instance now (health): `no-cache`, with an `ETag` of the
    /// body so a client may still revalidate.
    Revalidate,
    /// Never stored anywhere: POST answers and answers for a signed-in caller.
    NoStore,
}

/// One row of the route table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RouteSpec {
    /// The public path, with `{id}` for the one dynamic segment.
    pub path: &'static str,
    pub methods: Methods,
    pub cache: CachePolicy,
    pub access: Access,
}

impl RouteSpec {
    /// A GET (and HEAD) anyone may call.
    const fn public_read(path: &'static str, cache: CachePolicy) -> Self {
        RouteSpec {
            path,
            methods: Methods::Read,
            cache,
            access: Access::Public,
        }
    }

    /// A POST anyone may call; its answers are never stored.
    const fn public_write(path: &'static str) -> Self {
        RouteSpec {
            path,
            methods: Methods::Write,
            cache: CachePolicy::NoStore,
            access: Access::Public,
        }
    }

    /// A route only a caller with `role` may call; its answers are never
    /// stored, since they depend on the caller.
    const fn with_role(path: &'static str, methods: Methods, role: Role) -> Self {
        RouteSpec {
            path,
            methods,
            cache: CachePolicy::NoStore,
            access: Access::Role(role),
        }
    }
}

impl CachePolicy {
    /// The `Cache-Control` of a successful answer (and its 304).
    pub const fn cache_control(self) -> &'static str {
        match self {
            // Data changes only with a deploy: browsers keep a minute, the
            // edge a day, and may serve stale for a week while revalidating.
            CachePolicy::Immutable => {
                "public, max-age=60, s-maxage=86400, stale-while-revalidate=604800"
            }
            CachePolicy::Revalidate => "no-cache",
            CachePolicy::NoStore => "no-store",
        }
    }
}

/// Who may call a route.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Access {
    /// Anyone, without credentials.
    Public,
    /// A caller with a valid bearer access token for an account of this role.
    Role(Role),
}

impl Route {
    /// Whether the route answers from the model file, which is then loaded
    /// at start (and only then: the other functions never read it). The
    /// feature dictionary reads the card's findings, and answers without them.
    pub const fn uses_model(self) -> bool {
        matches!(
            self,
            Route::MlPredictions | Route::MlModel | Route::MlFeatures
        )
    }

    /// Whether the route talks to the model endpoint in orchestrator mode
    /// (`BOOKS_MODEL_SERVING_URL`): predictions through it, the model card
    /// from it, and health pings it.
    pub const fn uses_model_serving(self) -> bool {
        matches!(self, Route::MlPredictions | Route::MlModel | Route::Health)
    }

    /// Whether the route needs the authentication settings: it signs in, or
    /// only some callers may call it. The other functions never read them.
    pub const fn uses_auth(self) -> bool {
        self.signs_in()
            || matches!(self, Route::AuthRefresh)
            || matches!(self.access(), Access::Role(_))
    }

    /// Whether the route checks a password: JSON sign-in, or the OAuth 2.0
    /// password grant.
    pub const fn signs_in(self) -> bool {
        matches!(self, Route::AuthLogin | Route::AuthToken)
    }

    /// Whether the route starts scrapes or reports on them (the other
    /// functions never set up the trigger).
    pub const fn uses_trigger(self) -> bool {
        matches!(self, Route::ScrapingTrigger | Route::ScrapingStatus)
    }

    /// The public path, with `{id}` for the one dynamic segment.
    pub const fn path(self) -> &'static str {
        self.spec().path
    }

    /// The methods the route serves.
    pub const fn methods(self) -> Methods {
        self.spec().methods
    }

    /// How the route's answers are cached and validated.
    pub const fn cache_policy(self) -> CachePolicy {
        self.spec().cache
    }

    /// Who may call the route.
    pub const fn access(self) -> Access {
        self.spec().access
    }

    /// The Vercel function file: the path with `{id}` written `[id]`.
    pub fn api_file(self) -> String {
        let path = self.path().trim_start_matches('/');
        format!("{}.rs", path.replace('{', "[").replace('}', "]"))
    }

    /// The Cargo `[[bin]]` name of the function: the path's words joined by `-`.
    pub fn bin_name(self) -> String {
        self.path()
            .trim_start_matches('/')
            .replace(['{', '}'], "")
            .replace(['/', '.'], "-")
    }

    /// Finds the route a request path names, accepting one trailing slash.
    /// Static paths win over `{id}`, as they do on Vercel.
    pub fn resolve(path: &str) -> Option<Route> {
        let path = path.strip_suffix('/').unwrap_or(path);
        if let Some(route) = Route::ALL.into_iter().find(|r| r.path() == path) {
            return Some(route);
        }
        Route::ALL
            .into_iter()
            .find(|r| r.path().contains("{id}") && matches_template(r.path(), path))
    }
}

/// Whether `path` is `template` with a non-empty segment in place of `{id}`.
fn matches_template(template: &str, path: &str) -> bool {
    let (mut want, mut have) = (template.split('/'), path.split('/'));
    loop {
        match (want.next(), have.next()) {
            (None, None) => return true,
            (Some("{id}"), Some(segment)) if !segment.is_empty() => {}
            (Some(w), Some(h)) if w == h => {}
            _ => return false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_route_resolves_to_itself() {
        for route in Route::ALL {
            let concrete = route.path().replace("{id}", "7");
            assert_eq!(Route::resolve(&concrete), Some(route), "{concrete}");
        }
    }

    #[test]
    fn static_siblings_win_over_id() {
        assert_eq!(
            Route::resolve("/api/v1/books/search"),
            Some(Route::BooksSearch)
        );
        assert_eq!(
            Route::resolve("/api/v1/books/top-rated/"),
            Some(Route::BooksTopRated)
        );
        assert_eq!(Route::resolve("/api/v1/books/abc"), Some(Route::BookById));
        assert_eq!(Route::resolve("/api/v1/books/1/2"), None);
        assert_eq!(Route::resolve("/api/v1/nope"), None);
    }

    #[test]
    fn a_book_and_its_similar_books_resolve_apart() {
        assert_eq!(Route::resolve("/api/v1/books/7"), Some(Route::BookById));
        assert_eq!(
            Route::resolve("/api/v1/books/7/similar"),
            Some(Route::BookSimilar)
        );
        assert_eq!(
            Route::resolve("/api/v1/books/7/similar/"),
            Some(Route::BookSimilar)
        );
        // Vercel may invoke the function at its own file's path.
        assert_eq!(
            Route::resolve("/api/v1/books/[id]/similar"),
            Some(Route::BookSimilar)
        );
        assert_eq!(
            Route::resolve("/api/v1/books/search/similar"),
            Some(Route::BookSimilar)
        );
        for path in [
            "/api/v1/books//similar",
            "/api/v1/books/7/similar/x",
            "/api/v1/books/7/similars",
            "/api/v1/books/7/Similar",
            "/api/v1/books/similar",
        ] {
            let expected = (path == "/api/v1/books/similar").then_some(Route::BookById);
            assert_eq!(Route::resolve(path), expected, "{path}");
        }
    }

    #[test]
    fn policies_are_consistent() {
        for route in Route::ALL {
            // A write or an authenticated answer is never cached publicly.
            if route.methods() == Methods::Write || route.access() != Access::Public {
                assert_eq!(route.cache_policy(), CachePolicy::NoStore, "{route:?}");
            }
        }
        // `Allow` is the served methods plus OPTIONS.
        for methods in [Methods::Read, Methods::Write] {
            let mut listed: Vec<&str> = methods.served().iter().map(|m| m.as_str()).collect();
            listed.push("OPTIONS");
            assert_eq!(methods.allow(), listed.join(", "));
        }
    }

    #[test]
    fn derived_names() {
        assert_eq!(Route::BookById.api_file(), "api/v1/books/[id].rs");
        assert_eq!(Route::BookById.bin_name(), "api-v1-books-id");
        assert_eq!(
            Route::BookSimilar.api_file(),
            "api/v1/books/[id]/similar.rs"
        );
        assert_eq!(Route::BookSimilar.bin_name(), "api-v1-books-id-similar");
        assert_eq!(Route::BooksTopRated.bin_name(), "api-v1-books-top-rated");
        assert_eq!(Route::OpenApi.api_file(), "api/v1/openapi.json.rs");
        assert_eq!(Route::OpenApi.bin_name(), "api-v1-openapi-json");
    }
}
