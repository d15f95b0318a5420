using System.CommandLine;
using AuditAgent.Protection;
using Microsoft.Extensions.DependencyInjection;

namespace AuditAgent.Cli;

/// <summary>The key ring that seals exposed addresses: make a key, see what each key sealed, rotate.</summary>
internal static class KeysCommand
{
    public static Command Create(Terminal terminal)
    {
        var create = new Command("new", "Print a new random 256-bit key (base64). Append it to the key file to make it the current key.");
        create.SetAction(parse =>
        {
            terminal.Output.WriteLine(KeyRing.NewKey());
            return ExitCodes.Ok;
        });

        var status = new Command("status", "Show the key ring's keys and how many stored values each one sealed.");
        status.SetAction((parse, ct) => CommandLine.RunAsync(terminal, parse, async () =>
        {
            using var host = await CommandLine.DatabaseHostAsync(parse, terminal, ct);
            var protector = host.Services.GetRequiredService<RecipientProtector>();
            var report = await protector.ReportAsync(ct);
            var (ring, sealedBy) = report;
            await terminal.Output.WriteLineAsync($"Key ring from {protector.Source}:");
            foreach (var id in ring.Ids)
            {
                await terminal.Output.WriteLineAsync($"  {id}{(id == ring.CurrentId ? " (current)" : "")}: seals {sealedBy.GetValueOrDefault(id)} stored values");
            }

            foreach (var id in report.Missing)
            {
                await terminal.Output.WriteLineAsync($"  {id}: NOT IN THE RING, seals {sealedBy[id]} stored values that cannot be read");
            }

            await terminal.Output.WriteLineAsync(report.Older.Count > 0
                ? "Older keys still seal data: run `auditagent keys rewrap`, then they can be removed from the ring."
                : ring.Ids.Count > 1 ? "Only the current key seals data: the older keys can be removed from the ring." : "Nothing to rotate.");
            return report.Missing.Count == 0 ? ExitCodes.Ok : ExitCodes.Failure;
        }));

        var rewrap = new Command("rewrap", "Re-seal everything sealed with an older key with the current (last) key. Safe to stop and run again.");
        rewrap.SetAction((parse, ct) => CommandLine.RunAsync(terminal, parse, async () =>
        {
            using var host = await CommandLine.DatabaseHostAsync(parse, terminal, ct);
            var protector = host.Services.GetRequiredService<RecipientProtector>();
            var count = await protector.RewrapAsync(ct);
            var ring = (await protector.GetAsync(ct)).Ring;
            await terminal.Output.WriteLineAsync($"Re-sealed {count} values with key {ring.CurrentId}; the older keys can now be removed from the ring.");
            return ExitCodes.Ok;
        }));

        return new Command("keys", "The key ring that seals the exposed addresses AuditAgent stores (AES-256-GCM).") { create, status, rewrap };
    }
}
