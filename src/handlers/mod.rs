//! One function per endpoint: typed parameters in, a serialisable value out.
