//! THE route table. Everything that names the endpoints (the local server's
//! routing, the `api/` files, the `[[bin]]` entries, `vercel.json`, the README,
//! the OpenAPI document) derives from or is checked against [`Route::ALL`].

/// Every endpoint under `/api/v1`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Route {
    Health,
    Books,
    BookById,
    BooksSearch,
    BooksTopRated,
    BooksPriceRange,
    Categories,
    StatsOverview,
    StatsCategories,
    OpenApi,
}

/// The prefix every API path starts with.
pub const API_PREFIX: &str = "/api/v1";

impl Route {
    pub const ALL: [Route; 10] = [
        Route::Health,
        Route::Books,
        Route::BookById,
        Route::BooksSearch,
        Route::BooksTopRated,
        Route::BooksPriceRange,
        Route::Categories,
        Route::StatsOverview,
        Route::StatsCategories,
        Route::OpenApi,
    ];

    /// The public path, with `{id}` for the one dynamic segment.
    pub const fn path(self) -> &'static str {
        match self {
            Route::Health => "/api/v1/health",
            Route::Books => "/api/v1/books",
            Route::BookById => "/api/v1/books/{id}",
            Route::BooksSearch => "/api/v1/books/search",
            Route::BooksTopRated => "/api/v1/books/top-rated",
            Route::BooksPriceRange => "/api/v1/books/price-range",
            Route::Categories => "/api/v1/categories",
            Route::StatsOverview => "/api/v1/stats/overview",
            Route::StatsCategories => "/api/v1/stats/categories",
            Route::OpenApi => "/api/v1/openapi.json",
        }
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
        let id = path.strip_prefix("/api/v1/books/")?;
        (!id.is_empty() && !id.contains('/')).then_some(Route::BookById)
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
    fn derived_names() {
        assert_eq!(Route::BookById.api_file(), "api/v1/books/[id].rs");
        assert_eq!(Route::BookById.bin_name(), "api-v1-books-id");
        assert_eq!(Route::BooksTopRated.bin_name(), "api-v1-books-top-rated");
        assert_eq!(Route::OpenApi.api_file(), "api/v1/openapi.json.rs");
        assert_eq!(Route::OpenApi.bin_name(), "api-v1-openapi-json");
    }
}
