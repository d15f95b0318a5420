using System.CommandLine;
using AuditAgent.Simulator;

namespace AuditAgent.Cli;

/// <summary>The options that pick a simulated tenant: a tenant file, or a generated one.</summary>
internal sealed class TenantArguments
{
    public Option<string?> TenantFile { get; } = new("--tenant-file") { Description = "A tenant as Graph JSON: {\"domains\": [...], \"users\": [... with \"sentItems\"]}." };

    public Option<int> Mailboxes { get; } = new("--mailboxes") { Description = "Mailboxes in the generated tenant.", DefaultValueFactory = _ => 60 };

    public Option<int> MessagesPerMailbox { get; } = new("--messages-per-mailbox") { Description = "Sent items per generated mailbox.", DefaultValueFactory = _ => 40 };

    public Option<int> Seed { get; } = new("--seed") { Description = "Seed of the generated tenant: the same seed gives the same tenant.", DefaultValueFactory = _ => 42 };

    public void AddTo(Command command)
    {
        command.Options.Add(TenantFile);
        command.Options.Add(Mailboxes);
        command.Options.Add(MessagesPerMailbox);
        command.Options.Add(Seed);
    }

    /// <returns>The tenant, and the generator's ground truth when it was generated.</returns>
    public (SimTenant Tenant, GeneratedTenant? Generated) Create(ParseResult parse, DateTimeOffset now)
    {
        if (parse.GetValue(TenantFile) is { } file)
        {
            return (Simulator.TenantFile.Load(Path.GetFullPath(file)), null);
        }

        var mailboxes = parse.GetValue(Mailboxes);
        var messages = parse.GetValue(MessagesPerMailbox);
        if (mailboxes is < 1 or > 100_000)
        {
            throw new CliException($"--mailboxes must be between 1 and 100000 (it is {mailboxes}).");
        }

        if (messages is < 1 or > 100_000)
        {
            throw new CliException($"--messages-per-mailbox must be between 1 and 100000 (it is {messages}).");
        }

        var generated = TenantGenerator.Generate(new GeneratorSettings
        {
            Mailboxes = mailboxes,
            MessagesPerMailbox = messages,
            Seed = parse.GetValue(Seed),
            Now = now,
        });
        return (generated.Tenant, generated);
    }
}
