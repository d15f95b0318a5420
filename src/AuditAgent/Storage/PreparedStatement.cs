using System.Data.Common;
using System.Globalization;

namespace AuditAgent.Storage;

/// <summary>
/// One SQLite statement prepared once and run per row: SQLite's bulk insert, as a statement costs no round trip
/// there (PostgreSQL gets one statement over arrays instead). Parameters are positional ($1, $2, ...), values
/// are given in the same order; null is written as NULL and a time as the text every other query writes.
/// </summary>
internal sealed class PreparedStatement : IAsyncDisposable
{
    private readonly DbCommand _command;

    private PreparedStatement(DbCommand command) => _command = command;

    public static async Task<PreparedStatement> PrepareAsync(DbConnection connection, DbTransaction tx, string sql, int parameters, CancellationToken ct)
    {
        var command = connection.CreateCommand();
        command.Transaction = tx;
        command.CommandText = sql;
        for (var i = 1; i <= parameters; i++)
        {
            var parameter = command.CreateParameter();
            parameter.ParameterName = "$" + i.ToString(CultureInfo.InvariantCulture);
            command.Parameters.Add(parameter);
        }

        await command.PrepareAsync(ct);
        return new PreparedStatement(command);
    }

    public Task RunAsync(CancellationToken ct, params object?[] values)
    {
        for (var i = 0; i < values.Length; i++)
        {
            _command.Parameters[i].Value = values[i] switch
            {
                null => DBNull.Value,
                DateTimeOffset t => Database.TimestampText(t),
                var v => v,
            };
        }

        return _command.ExecuteNonQueryAsync(ct);
    }

    public ValueTask DisposeAsync() => _command.DisposeAsync();
}
