// The PostgreSQL store. Everything here is built only with the PostgreSQL package trait
// (`swift build --traits PostgreSQL`); without it this module is empty and postgres-nio is not a
// dependency, so SQLite-only users do not build NIO.
