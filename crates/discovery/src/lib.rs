//! Service discovery: static and file target groups on a channel.
