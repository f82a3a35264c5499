using System.Globalization;
using Npgsql;
using Tcm.Hosting.Storage;

namespace Tcm.NotificationServer.Store;

/// <summary>
/// The capture of targets' state changes on PostgreSQL, what SQLite's temporary trigger does on the file: an <c>AFTER UPDATE</c> trigger
/// on <c>action_targets</c> copies each real change of a target's state (or result count) into a temporary table of the session that
/// made it, and the writer takes them out before its batch commits (<see cref="WriteContext"/>). Only a session that asked for them
/// (the writer's: <see cref="PrepareWriter"/>) gets any; others (another node's reads, an administrator's psql) are not slowed.
/// <para>
/// The function and trigger are set at every start (<c>CREATE OR REPLACE</c>, under the migrations' lock), not a migration: they are
/// how this code watches the table, and change with it, the way the SQLite trigger lives only on its writer's connection.
/// </para>
/// </summary>
internal static class PostgresTargetStates
{
    private static readonly string Install =
        $"""
        SELECT pg_advisory_xact_lock({SchemaMigrator.PostgresLock.ToString(CultureInfo.InvariantCulture)});
        CREATE OR REPLACE FUNCTION tcm_target_state() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF current_setting('tcm.capture_target_states', true) = 'on' THEN
                INSERT INTO pg_temp.tcm_target_changes(action_id, agent_id, status, delivered_via, delivered_at, completed_at, exit_code, output, truncated, result_count)
                VALUES (NEW.action_id, NEW.agent_id, NEW.status, NEW.delivered_via, NEW.delivered_at, NEW.completed_at, NEW.exit_code,
                    substr(NEW.output, 1, {TcmStore.ChangeOutputLimit}), CASE WHEN coalesce(length(NEW.output), 0) > {TcmStore.ChangeOutputLimit} THEN 1 ELSE 0 END,
                    NEW.result_count);
            END IF;
            RETURN NULL;
        END
        $$;
        CREATE OR REPLACE TRIGGER tcm_target_state AFTER UPDATE OF status, result_count ON action_targets FOR EACH ROW
            WHEN (OLD.status IS DISTINCT FROM NEW.status OR OLD.result_count IS DISTINCT FROM NEW.result_count)
            EXECUTE FUNCTION tcm_target_state();
        """;

    private const string Session = """
        CREATE TEMP TABLE IF NOT EXISTS tcm_target_changes(
            n BIGINT GENERATED ALWAYS AS IDENTITY, action_id TEXT NOT NULL, agent_id TEXT NOT NULL, status TEXT NOT NULL, delivered_via TEXT,
            delivered_at BIGINT, completed_at BIGINT, exit_code BIGINT, output TEXT, truncated BIGINT NOT NULL, result_count BIGINT NOT NULL);
        SET tcm.capture_target_states = 'on';
        """;

    private const string Taken = """
        WITH taken AS (DELETE FROM pg_temp.tcm_target_changes RETURNING *)
        SELECT action_id, agent_id, status, delivered_via, delivered_at, completed_at, exit_code, output, truncated, result_count FROM taken ORDER BY n
        """;

    /// <summary>Sets the trigger and its function on the database (idempotent; under the migrations' lock, as several nodes may start together).</summary>
    public static void InstallTrigger(NpgsqlConnection connection)
    {
        using var transaction = connection.BeginTransaction();
        using (var command = new NpgsqlCommand(Install, connection, transaction))
        {
            command.ExecuteNonQuery();
        }

        transaction.Commit();
    }

    /// <summary>Makes <paramref name="connection"/> (the writer's, opened anew) a session whose changes are captured.</summary>
    public static void PrepareWriter(NpgsqlConnection connection)
    {
        using var command = new NpgsqlCommand(Session, connection);
        command.ExecuteNonQuery();
    }

    /// <summary>
    /// Turns the capture of the writer's session on or off (in its transaction: a rollback takes it back), sent with the batch's first
    /// statement.
    /// </summary>
    public static void SetCapture(PostgresStatements statements, bool on) =>
        statements.Defer(on ? "SET tcm.capture_target_states = 'on'" : "SET tcm.capture_target_states = 'off'");

    /// <summary>Moves the changes the batch's writes made into <paramref name="changes"/>, in the order they were made.</summary>
    public static void Take(PostgresStatements statements, List<TargetStateChange> changes) =>
        changes.AddRange(statements.Rows(
            Taken,
            static r => new TargetStateChange(
                r.GetString(0),
                r.GetString(1),
                r.GetString(2),
                r.IsDBNull(3) ? null : r.GetString(3),
                r.IsDBNull(4) ? null : r.GetInt64(4),
                r.IsDBNull(5) ? null : r.GetInt64(5),
                r.IsDBNull(6) ? null : r.GetInt64(6),
                r.IsDBNull(7) ? null : r.GetString(7),
                r.GetInt64(8) != 0,
                r.GetInt64(9))));
}
