using System.Data.Common;
using System.Globalization;

namespace AuditAgent.Storage;

/// <summary>
/// One statement made once and run per row. On SQLite it is the bulk insert, as a statement costs no round trip
/// there (PostgreSQL gets one statement over arrays instead), with positional parameters ($1, $2, ...). With named
/// parameters it serves both databases where a statement runs once per row anyway: each parameter is created once,
/// named exactly as the SQL writes it ("@Link"), so SQLite finds it in one look-up. Dapper names its parameters
/// without the '@', and Microsoft.Data.Sqlite then tries every prefix, building strings each time, for every
/// parameter of every row (about a sixth of the bytes a 20,000-mailbox scan allocated, by dotnet-trace). Values are
/// given in the order of the names; null is written as NULL and a time as the text every other query writes.
/// </summary>
internal sealed class PreparedStatement : IAsyncDisposable
{
    private readonly DbCommand _command;

    private PreparedStatement(DbCommand command) => _command = command;

    public static Task<PreparedStatement> PrepareAsync(DbConnection connection, DbTransaction tx, string sql, int parameters, CancellationToken ct) =>
        PrepareAsync(connection, tx, sql, Enumerable.Range(1, parameters).Select(i => "$" + i.ToString(CultureInfo.InvariantCulture)).ToArray(), ct);

    /// <param name="names">The parameters as the SQL writes them, prefix included.</param>
    public static async Task<PreparedStatement> PrepareAsync(DbConnection connection, DbTransaction tx, string sql, IReadOnlyList<string> names, CancellationToken ct)
    {
        var command = connection.CreateCommand();
        command.Transaction = tx;
        command.CommandText = sql;
        foreach (var name in names)
        {
            var parameter = command.CreateParameter();
            parameter.ParameterName = name;
            command.Parameters.Add(parameter);
        }

        // SQLite compiles the statement once for every row; PostgreSQL would spend a round trip on it.
        if (connection is Microsoft.Data.Sqlite.SqliteConnection)
        {
            await command.PrepareAsync(ct);
        }

        return new PreparedStatement(command);
    }

    public Task RunAsync(CancellationToken ct, params object?[] values)
    {
        Bind(values);
        return _command.ExecuteNonQueryAsync(ct);
    }

    /// <summary>Runs the statement for one row and returns the number its RETURNING clause gave, or null when it gave no row.</summary>
    public async Task<long?> ReturningAsync(CancellationToken ct, params object?[] values)
    {
        Bind(values);
        return await _command.ExecuteScalarAsync(ct) is { } value and not DBNull ? Convert.ToInt64(value, CultureInfo.InvariantCulture) : null;
    }

    private void Bind(object?[] values)
    {
        if (values.Length != _command.Parameters.Count)
        {
            throw new ArgumentException($"The statement takes {_command.Parameters.Count} values; {values.Length} were given.", nameof(values));
        }

        for (var i = 0; i < values.Length; i++)
        {
            _command.Parameters[i].Value = values[i] switch
            {
                null => DBNull.Value,
                DateTimeOffset t => Database.TimestampText(t),
                var v => v,
            };
        }
    }

    public ValueTask DisposeAsync() => _command.DisposeAsync();
}
