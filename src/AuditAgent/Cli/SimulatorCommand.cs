using System.CommandLine;
using AuditAgent.Simulator;

namespace AuditAgent.Cli;

/// <summary>Runs the tenant simulator on its own, for trying the agent's real configuration path.</summary>
internal static class SimulatorCommand
{
    public static Command Create(Terminal terminal)
    {
        var tenant = new TenantArguments();
        var port = new Option<int>("--port") { Description = "Port on 127.0.0.1 (0 picks a free one).", DefaultValueFactory = _ => 5080 };
        var latency = new Option<int>("--latency-ms") { Description = "Added to every Graph operation." };
        var faultRate = new Option<double>("--fault-rate") { Description = "Share of operations answered with a random 429 or 503 (0 to 1)." };
        var record = new Option<bool>("--record-requests") { Description = "Keep every Graph request until the next reset, listed at /_simulator/requests (the benchmark's replay client)." };
        var command = new Command("simulator", "Run the Graph tenant simulator standalone until Ctrl+C.");
        tenant.AddTo(command);
        command.Options.Add(port);
        command.Options.Add(latency);
        command.Options.Add(faultRate);
        command.Options.Add(record);
        command.SetAction((parse, ct) => CommandLine.RunAsync(terminal, parse, async () =>
        {
            if (parse.GetValue(faultRate) is < 0 or > 1)
            {
                throw new CliException("--fault-rate must be between 0 and 1.");
            }

            var (simTenant, generated) = tenant.Create(parse, TimeProvider.System.GetUtcNow());
            await using var simulator = await SimulatorServer.StartAsync(simTenant, new SimulatorOptions
            {
                Port = parse.GetValue(port),
                Latency = TimeSpan.FromMilliseconds(parse.GetValue(latency)),
                FaultRate = parse.GetValue(faultRate),
                RecordRequests = parse.GetValue(record),
            }, ct);
            await terminal.Output.WriteLineAsync($"Graph simulator listening at {simulator.BaseUrl} with {simTenant.Users.Count} users"
                + (generated is null ? "." : $" and {generated.Exposures.Count} seeded exposures."));
            await terminal.Output.WriteLineAsync("Point the agent at it:");
            await terminal.Output.WriteLineAsync($"  export AUDITAGENT__GRAPH__BASEURL={simulator.BaseUrl}");
            await terminal.Output.WriteLineAsync($"  export AUDITAGENT__GRAPH__ACCESSTOKEN={simulator.Token}");
            await terminal.Output.WriteLineAsync($"Counters: {simulator.BaseUrl.Replace("/v1.0", "/_simulator/stats", StringComparison.Ordinal)}. Press Ctrl+C to stop.");
            try
            {
                await Task.Delay(Timeout.Infinite, ct);
            }
            catch (OperationCanceledException)
            {
            }

            return ExitCodes.Ok;
        }));
        return command;
    }
}
