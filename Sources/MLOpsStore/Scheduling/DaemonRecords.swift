
/// The owner of `scheduler_daemons`: each scheduler process on record with its identity and
/// heartbeat, so another can tell whether it is alive.
public enum DaemonRecords {
    public static func register(_ tx: StoreTransaction, id: String, identity: ProcessIdentity, now: Int64) throws {
        try tx.db.execute(sql: """
            INSERT INTO scheduler_daemons (id, pid, pid_start_time, boot_id, host, started_time, heartbeat_time, status)
            VALUES (?, ?, ?, ?, ?, ?, ?, 'running')
            """, arguments: [id, identity.pid, identity.startTime, identity.bootID, identity.host, now, now])
    }

    public static func heartbeat(_ tx: StoreTransaction, id: String, now: Int64) throws {
        try tx.db.execute(sql: "UPDATE scheduler_daemons SET heartbeat_time = ? WHERE id = ?", arguments: [now, id])
    }

    public static func stopped(_ tx: StoreTransaction, id: String, now: Int64) throws {
        try tx.db.execute(sql: "UPDATE scheduler_daemons SET status = 'stopped', stopped_time = ? WHERE id = ?", arguments: [now, id])
    }
}
