//! Fetching and parsing books.toscrape.com.
