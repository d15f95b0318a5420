using AuditAgent.Hosting;
using AuditAgent.Incidents;
using AuditAgent.Scanning;
using AuditAgent.Simulator;
using AuditAgent.Storage;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace AuditAgent.Tests.Support;

/// <summary>
/// The real agent (Graph SDK over HTTP, SQLite file) against an in-process tenant simulator.
/// Each harness has its own temporary folder and database.
/// </summary>
public sealed class AgentHarness : IAsyncDisposable
{
    private readonly TempFolder _folder;
    private readonly Dictionary<string, string?> _settings;
    private readonly TimeProvider _time;
    private ServiceProvider _services;
    private readonly Action<IServiceCollection>? _configure;
    private Backends.TestDatabase? _postgres;

    private AgentHarness(SimulatorServer simulator, TempFolder folder, Dictionary<string, string?> settings, TimeProvider time, Action<IServiceCollection>? configure)
    {
        Simulator = simulator;
        _folder = folder;
        _settings = settings;
        _time = time;
        _configure = configure;
        _services = Build();
    }

    public SimulatorServer Simulator { get; }

    public string DatabasePath => Path.Combine(_folder.Path, "agent.db");

    public IServiceProvider Services => _services;

    /// <summary>Settings the tests always want: no waiting on Retry-After 0, generous retries.</summary>
    /// <summary>In a setting's value, stands for the simulator's origin (its sink receivers live there).</summary>
    public const string SimulatorOrigin = "{simulator}";

    public static SimulatorOptions FastSimulator(SimulatorOptions? options = null) =>
        (options ?? new SimulatorOptions()) with { RetryAfterSeconds = 0 };

    public static async Task<AgentHarness> StartAsync(
        SimTenant tenant,
        SimulatorOptions? simulator = null,
        IReadOnlyDictionary<string, string?>? settings = null,
        TimeProvider? time = null,
        Backend backend = Backend.Sqlite,
        Action<IServiceCollection>? services = null)
    {
        Backends.Require(backend);
        var postgres = backend == Backend.PostgreSql ? await Backends.CreatePostgreSqlAsync() : null;
        var server = await SimulatorServer.StartAsync(tenant, FastSimulator(simulator));
        var folder = new TempFolder();
        var all = new Dictionary<string, string?>
        {
            ["Graph:BaseUrl"] = server.BaseUrl,
            ["Graph:AccessToken"] = server.Token,
            ["Graph:MaxRetries"] = "10",
            ["Graph:RetryDelaySeconds"] = "0",
            ["Storage:SqlitePath"] = Path.Combine(folder.Path, "agent.db"),
        };
        if (postgres is not null)
        {
            all["Storage:Provider"] = "PostgreSql";
            all["Storage:ConnectionString"] = postgres.ConnectionString;
            // Agents sharing PostgreSQL must share the key ring (SQLite creates one beside its file).
            all["Protection:Key"] = AuditAgent.Protection.KeyRing.NewKey();
        }

        foreach (var (key, value) in settings ?? new Dictionary<string, string?>())
        {
            all[key] = value?.Replace(SimulatorOrigin, server.Origin, StringComparison.Ordinal);
        }

        return new AgentHarness(server, folder, all, time ?? TimeProvider.System, services) { _postgres = postgres };
    }

    /// <summary>The configuration the agent runs with (for tests that start it as a separate process).</summary>
    public IReadOnlyDictionary<string, string?> Settings => _settings;

    /// <summary>A settings file for commands run against this agent's database (either backend) and key ring, nothing else.</summary>
    public Task<string> WriteStorageSettingsAsync(TempFolder folder)
    {
        ArgumentNullException.ThrowIfNull(folder);
        return folder.WriteSettingsAsync(_settings.Where(s => s.Key.StartsWith("Storage:", StringComparison.Ordinal) || s.Key.StartsWith("Protection:", StringComparison.Ordinal))
            .ToDictionary(s => s.Key, s => s.Value));
    }

    public async Task<ScanSummary> ScanAsync(CancellationToken ct = default)
    {
        await _services.GetRequiredService<DatabaseMigrator>().MigrateAsync(ct);
        return await _services.GetRequiredService<ScanService>().RunAsync(null, ct);
    }

    /// <summary>A scan followed by incident processing, as the scan command runs them.</summary>
    public async Task<IncidentRunSummary> ScanAndProcessAsync(CancellationToken ct = default) =>
        (await ScanPipelineAsync(ct)).Incidents;

    /// <summary>The scan and its incident processing, through the one composition every face uses.</summary>
    public async Task<ScanResult> ScanPipelineAsync(CancellationToken ct = default)
    {
        await _services.GetRequiredService<DatabaseMigrator>().MigrateAsync(ct);
        return await _services.GetRequiredService<ScanPipeline>().RunAsync(null, ct);
    }

    public Task<IReadOnlyList<IncidentRow>> IncidentsAsync() =>
        _services.GetRequiredService<IncidentQueries>().ListAsync(null, null, CancellationToken.None);

    public async Task<IncidentDetail> IncidentAsync(long id) =>
        await _services.GetRequiredService<IncidentQueries>().GetAsync(id, CancellationToken.None) ?? throw new InvalidOperationException($"no incident {id}");

    public IncidentStore Store => _services.GetRequiredService<IncidentStore>();

    public Task<IReadOnlyList<FindingRow>> FindingsAsync() =>
        _services.GetRequiredService<FindingQueries>().ListAsync(CancellationToken.None);

    /// <summary>A second agent over the same database and tenant, as another instance would be.</summary>
    public ServiceProvider AnotherAgent() => Build();

    /// <summary>A new agent process over the same database, as after a restart.</summary>
    public async Task RestartAsync()
    {
        await _services.DisposeAsync();
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        _services = Build();
    }

    public async ValueTask DisposeAsync()
    {
        await _services.DisposeAsync();
        await Simulator.DisposeAsync();
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        if (_postgres is not null)
        {
            await _postgres.DisposeAsync();
        }

        _folder.Dispose();
    }

    private static int _agents;

    private ServiceProvider Build()
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(_settings).Build();
        var services = new ServiceCollection();
        services.AddLogging(b => b.SetMinimumLevel(LogLevel.Warning));
        services.AddAuditAgent(configuration);
        services.AddSingleton(_time);
        _configure?.Invoke(services);
        // Each provider is its own agent, as a separate process would be: its own leases and job runs.
        services.AddSingleton(new AgentInstance(Environment.MachineName, Environment.ProcessId, $"agent{Interlocked.Increment(ref _agents)}"));
        return services.BuildServiceProvider();
    }
}

public sealed class TempFolder : IDisposable
{
    public TempFolder()
    {
        Path = Directory.CreateTempSubdirectory("auditagent-tests-").FullName;
    }

    public string Path { get; }

    /// <summary>Writes <paramref name="settings"/> as settings.json in this folder, for a command's --config.</summary>
    public async Task<string> WriteSettingsAsync(object settings)
    {
        var file = System.IO.Path.Combine(Path, "settings.json");
        await File.WriteAllTextAsync(file, System.Text.Json.JsonSerializer.Serialize(settings));
        return file;
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (IOException)
        {
            // A child process may still hold a file for a moment; the OS cleans temp folders.
        }
    }
}
