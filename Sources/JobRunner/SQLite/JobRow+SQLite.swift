extension JobRow.DefinitionValues {
    /// The values in the order of ``JobRow/definitionColumns``, for SQLite's positional parameters.
    var sqliteValues: [SQLiteValue] {
        [
            .text(queue), .text(kind), .string(handler), .string(command), .string(workingDirectory),
            .string(payload), .text(scheduleKind), .text(schedule), .int(runAt), .int(interval), .bool(fixedDelay),
            .string(cron), .string(timeZone), .int(initialDelay), .int(timeout), .integer(maxRetries),
            .integer(backoff), .integer(jitter), .text(misfire), .string(environment),
            .string(onFailure),
        ]
    }
}

extension Statement: StoreRow {
    func bool(_ column: Int) -> Bool { int64(column) != 0 }
    func optionalBytes(_ column: Int) -> [UInt8]? { isNull(column) ? nil : blob(column) }
}
