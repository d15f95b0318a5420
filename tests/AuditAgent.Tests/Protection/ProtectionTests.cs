using System.Security.Cryptography;
using System.Text;
using AuditAgent.Core.Incidents;
using AuditAgent.Protection;
using AuditAgent.Storage;
using AuditAgent.Tests.Support;
using Dapper;
using Microsoft.Extensions.DependencyInjection;
using static AuditAgent.Tests.Support.TenantBuilder;

namespace AuditAgent.Tests.Protection;

/// <summary>The exposed addresses AuditAgent keeps are sealed at rest and opened only when a person asks.</summary>
public sealed class ProtectionTests
{
    private static readonly string KeyA = KeyRing.NewKey();
    private static readonly string KeyB = KeyRing.NewKey();
    private static readonly KeyRing RingA = KeyRing.Parse(KeyA, "test");
    private static readonly string Sealed = RingA.Seal("alice@example.org"u8, "exposed-recipient:1");

    [Fact]
    public void SealedValue_OpensWithItsKeyAndContext_AndHidesThePlainText()
    {
        Assert.Equal("alice@example.org", Encoding.UTF8.GetString(RingA.Open(Sealed, "exposed-recipient:1")));
        Assert.DoesNotContain("alice", Sealed, StringComparison.Ordinal);
    }

    [Fact]
    public void SealedValue_MovedToAnotherRow_DoesNotOpen()
    {
        Assert.Throws<AuthenticationTagMismatchException>(() => RingA.Open(Sealed, "exposed-recipient:2"));
    }

    [Fact]
    public void SealedValue_Tampered_DoesNotOpen()
    {
        var tampered = Sealed[..^2] + (Sealed[^2] == 'A' ? "B" : "A") + Sealed[^1];

        Assert.ThrowsAny<CryptographicException>(() => RingA.Open(tampered, "exposed-recipient:1"));
    }

    [Fact]
    public void RotatedRing_OpensOldValues_AndSealsWithTheNewKey()
    {
        var rotated = KeyRing.Parse($"# old\n{KeyA}\n{KeyB}\n", "test");

        Assert.Equal("alice@example.org", Encoding.UTF8.GetString(rotated.Open(Sealed, "exposed-recipient:1")));
        Assert.NotEqual(KeyRing.KeyIdOf(Sealed), KeyRing.KeyIdOf(rotated.Seal("x"u8, "c")));
    }

    [Fact]
    public void ValuesSealedInTurnByTwoRings_OnOneThread_EachOpenWithTheirOwnRing_AndNoTwoAreAlike()
    {
        // A thread keeps its cipher for the sealing key: switching rings must switch keys, and each value gets its own nonce.
        var ringB = KeyRing.Parse(KeyB, "test");
        var sealedValues = Enumerable.Range(0, 6).Select(i => (Ring: i % 2 == 0 ? RingA : ringB, Value: (i % 2 == 0 ? RingA : ringB).Seal("bob@example.org"u8, "exposed-recipient:7"))).ToList();

        Assert.All(sealedValues, s => Assert.Equal("bob@example.org", Encoding.UTF8.GetString(s.Ring.Open(s.Value, "exposed-recipient:7"))));
        Assert.All(sealedValues, s => Assert.ThrowsAny<CryptographicException>(() => (s.Ring == RingA ? ringB : RingA).Open(s.Value, "exposed-recipient:7")));
        Assert.Equal(sealedValues.Count, sealedValues.Select(s => s.Value).Distinct(StringComparer.Ordinal).Count());
    }

    [Fact]
    public void RingWithoutTheSealingKey_SaysWhichKeyIsMissing()
    {
        var error = Assert.ThrowsAny<CryptographicException>(() => KeyRing.Parse(KeyB, "test").Open(Sealed, "exposed-recipient:1"));

        Assert.Contains($"sealed with key {RingA.CurrentId}, which is not in the configured key ring", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void RingFileWithABadLine_IsRefusedWithTheLine()
    {
        var bad = Assert.Throws<FormatException>(() => KeyRing.Parse($"{KeyA}\nnot-a-key\n", "keys.txt"));

        Assert.Equal("keys.txt, line 2: not a key (expected 32 bytes in base64, as `auditagent keys new` prints).", bad.Message);
    }

    [SkippableTheory]
    [MemberData(nameof(Backends.All), MemberType = typeof(Backends))]
    public async Task Scan_StoresNoExposedAddressOrNameInTheClear_AndIncludeRecipientsOpensThem(Backend backend)
    {
        var t = new TenantBuilder();
        var ann = t.User("ann");
        var people = People(14, Companies);
        t.Send(ann, "Spring newsletter", Now.AddDays(-2), people);
        t.Send(ann, "Sorry, here it is properly", Now.AddDays(-1), [ann.Mail!], bcc: People(12, "bcc-only.example"));
        await using var agent = await AgentHarness.StartAsync(t.Tenant, backend: backend);

        await agent.ScanAndProcessAsync();

        var finding = Assert.Single(await agent.FindingsAsync());
        var opened = (await agent.Services.GetRequiredService<FindingQueries>().RecipientsAsync(default))[finding.Id].ToList();
        Assert.Equal(people.Order(StringComparer.Ordinal), opened.Select(r => r.Address).Order(StringComparer.Ordinal));
        var incident = Assert.Single(await agent.IncidentsAsync());
        var exposed = await agent.Services.GetRequiredService<IncidentQueries>().ExposedRecipientsAsync(incident.Id, default);
        Assert.Equal(people.Order(StringComparer.Ordinal), exposed.Select(r => r.Address));
        var domains = await agent.Services.GetRequiredService<IncidentQueries>().ExposedDomainsAsync(incident.Id, default);
        Assert.Equal(14, domains.Sum(d => d.Count));

        var stored = await StoredTextAsync(agent, backend);
        Assert.All(people.Concat(People(12, "bcc-only.example")), address => Assert.DoesNotContain(address, stored, StringComparison.OrdinalIgnoreCase));
    }

    [Fact]
    public async Task KeyRotation_OldRecordsStayReadable_RewrapMovesThem_AndIncidentsStillMatchAcrossIt()
    {
        var t = new TenantBuilder();
        var ann = t.User("ann");
        var list = People(30, Companies);
        t.Send(ann, "Your order confirmation", Now.AddDays(-5), list);
        using var folder = new TempFolder();
        var keyFile = Path.Combine(folder.Path, "keys");
        var first = KeyRing.NewKey();
        await File.WriteAllTextAsync(keyFile, first + "\n");
        await using var agent = await AgentHarness.StartAsync(t.Tenant, settings: new Dictionary<string, string?> { ["Protection:KeyFile"] = keyFile });
        await agent.ScanAndProcessAsync();
        var incident = Assert.Single(await agent.IncidentsAsync());
        await agent.Store.ChangeStatusAsync(incident.Id, IncidentAction.Resolve, new AuditAgent.Core.Incidents.Actor("sec@contoso.com"), "handled", null, DateTimeOffset.UtcNow, CancellationToken.None);

        // Rotate: a new key becomes current; the old one stays in the ring until the data is re-sealed.
        var second = KeyRing.NewKey();
        await File.AppendAllTextAsync(keyFile, second + "\n");
        await agent.RestartAsync();
        t.Send(ann, "Apologies for our previous email", Now.AddDays(-3), list.Take(20).ToList());
        await agent.ScanAndProcessAsync();
        var protector = agent.Services.GetRequiredService<RecipientProtector>();
        var before = (await protector.ReportAsync(default)).SealedBy;
        Assert.Equal(2, before.Count);

        var rewrapped = await protector.RewrapAsync(default);
        await File.WriteAllTextAsync(keyFile, second + "\n");
        await agent.RestartAsync();

        Assert.Equal(31, rewrapped); // 30 recipients of the first message and the hash key
        var after = (await agent.Services.GetRequiredService<RecipientProtector>().ReportAsync(default)).SealedBy;
        Assert.Equal(50 + 1, Assert.Single(after).Value);
        var reopened = Assert.Single(await agent.IncidentsAsync());
        Assert.True(reopened.ReExposed, "the apology matched the first message's people across the rotation");
        var exposed = await agent.Services.GetRequiredService<IncidentQueries>().ExposedRecipientsAsync(reopened.Id, default);
        Assert.Equal(list.Order(StringComparer.Ordinal), exposed.Select(r => r.Address));
    }

    [Fact]
    public async Task KeysCommand_ShowsWhatEachKeySealed_AndRewrapsOnRequest()
    {
        var t = new TenantBuilder();
        var ann = t.User("ann");
        t.Send(ann, "Spring newsletter", Now.AddDays(-2), People(12, Companies));
        using var folder = new TempFolder();
        var keyFile = Path.Combine(folder.Path, "keys");
        await File.WriteAllTextAsync(keyFile, KeyRing.NewKey() + "\n");
        await using var agent = await AgentHarness.StartAsync(t.Tenant, settings: new Dictionary<string, string?> { ["Protection:KeyFile"] = keyFile });
        await agent.ScanAsync();
        var newKey = (await Commands.RunAsync("keys", "new")).Output.Trim();
        await File.AppendAllTextAsync(keyFile, newKey + "\n");
        var config = await folder.WriteSettingsAsync(new { Protection = new { KeyFile = keyFile } });

        var status = await Commands.RunAsync("keys", "status", "--db", agent.DatabasePath, "--config", config);
        var rewrap = await Commands.RunAsync("keys", "rewrap", "--db", agent.DatabasePath, "--config", config);
        var afterwards = await Commands.RunAsync("keys", "status", "--db", agent.DatabasePath, "--config", config);

        Assert.Contains("seals 13 stored values", status.Output, StringComparison.Ordinal);
        Assert.Contains("(current): seals 0 stored values", status.Output, StringComparison.Ordinal);
        Assert.Contains("run `auditagent keys rewrap`", status.Output, StringComparison.Ordinal);
        Assert.Contains("Re-sealed 13 values", rewrap.Output, StringComparison.Ordinal);
        Assert.Contains("(current): seals 13 stored values", afterwards.Output, StringComparison.Ordinal);
        Assert.Contains("the older keys can be removed", afterwards.Output, StringComparison.Ordinal);
        Assert.DoesNotContain(newKey, status.Output + rewrap.Output + afterwards.Output + status.Error + rewrap.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task DatabaseFromBeforeProtection_IsSealedByTheMigrationOnce_NothingLost()
    {
        var t = new TenantBuilder();
        var ann = t.User("ann");
        var people = People(12, Companies);
        t.Send(ann, "Spring newsletter", Now.AddDays(-2), people);
        await using var agent = await AgentHarness.StartAsync(t.Tenant);
        await agent.ScanAsync();
        var findingId = Assert.Single(await agent.FindingsAsync()).Id;
        // Put the database back as an older version left it: addresses in plain text, not yet protected.
        await using (var c = await agent.Services.GetRequiredService<Database>().OpenAsync(default))
        {
            await c.ExecuteAsync("DELETE FROM exposed_recipients; DELETE FROM meta WHERE key = 'recipients_protected'");
            await c.ExecuteAsync(
                "INSERT INTO finding_recipients (finding_id, address, name, field) VALUES (@findingId, @Address, 'Someone', 'To')",
                people.Select(p => new { findingId, Address = p }));
        }

        await agent.RestartAsync();
        await agent.Services.GetRequiredService<AuditAgent.Hosting.DatabaseMigrator>().MigrateAsync(default);
        var again = await agent.Services.GetRequiredService<AuditAgent.Protection.RecipientUpgrade>().RunAsync(default);
        var run = await agent.Services.GetRequiredService<AuditAgent.Incidents.IncidentService>().ProcessAsync(default);

        Assert.Equal((0, 0), again); // recorded: the step runs once
        Assert.Equal(1, run.Opened);
        var opened = (await agent.Services.GetRequiredService<FindingQueries>().RecipientsAsync(default))[findingId].ToList();
        Assert.Equal(people.Order(StringComparer.Ordinal), opened.Select(r => r.Address).Order(StringComparer.Ordinal));
        Assert.All(opened, r => Assert.Equal("Someone", r.Name));
        await using var check = await agent.Services.GetRequiredService<Database>().OpenAsync(default);
        Assert.Equal(0, await check.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM finding_recipients"));
    }

    [Fact]
    public async Task PostgreSqlWithoutAKeyRing_IsRefusedNamingTheSettings()
    {
        using var folder = new TempFolder();
        var (code, _, error) = await Commands.RunAsync("status", "--config", await folder.WriteSettingsAsync(new
        {
            Storage = new { Provider = "PostgreSql", ConnectionString = "Host=127.0.0.1;Database=auditagent;Username=auditagent" },
        }));

        Assert.NotEqual(0, code);
        Assert.Contains("Protection:KeyFile, Protection:Key or Protection:KeyVaultUri is required with PostgreSQL", error, StringComparison.Ordinal);
    }

    /// <summary>Everything the database holds, as text: the SQLite files' bytes, or every text column in PostgreSQL.</summary>
    private static async Task<string> StoredTextAsync(AgentHarness agent, Backend backend)
    {
        var database = agent.Services.GetRequiredService<Database>();
        if (backend == Backend.Sqlite)
        {
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            var files = new[] { agent.DatabasePath, agent.DatabasePath + "-wal" }.Where(File.Exists);
            return string.Concat(files.Select(f => Encoding.UTF8.GetString(File.ReadAllBytes(f))));
        }

        await using var c = await database.OpenAsync(default);
        var columns = await c.QueryAsync<(string Table, string Column)>(
            "SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = 'public' AND data_type = 'text' AND table_name NOT LIKE 'qrtz%'");
        var text = new StringBuilder();
        foreach (var (table, column) in columns)
        {
            foreach (var value in await c.QueryAsync<string?>($"SELECT \"{column}\" FROM \"{table}\""))
            {
                text.AppendLine(value);
            }
        }

        return text.ToString();
    }

    [Theory]
    [InlineData("  Bob@Partner.Example ", "bob@partner.example")]
    [InlineData("jürgen@bücher.de", "jürgen@bücher.de")]
    public void KeyOf_AnAddressAndItsNormalisedUtf8_GiveOneKey_EndingInTheDomain(string address, string normalised)
    {
        using var cipher = new RecipientCipher(RingA, new byte[32]);

        var key = cipher.KeyOf(address);

        Assert.Equal(key, cipher.KeyOf(System.Text.Encoding.UTF8.GetBytes(normalised)));
        Assert.Equal(22, key.IndexOf('@', StringComparison.Ordinal));
        Assert.EndsWith("@" + normalised.Split('@')[1], key, StringComparison.Ordinal);
        Assert.DoesNotContain('\0', key);
    }

    [Fact]
    public void KeysOf_AMailingsRecipients_AreEachAddressKeyALineInOrder()
    {
        using var cipher = new RecipientCipher(RingA, new byte[32]);
        string[] recipients = ["bob@partner.example", "jürgen@bücher.de", "a@" + new string('x', 600) + ".example", "carol@partner.example"];

        var keys = cipher.KeysOf(System.Text.Encoding.UTF8.GetBytes(string.Join('\n', recipients)));

        Assert.Equal(recipients.Select(cipher.KeyOf), keys.Split('\n'));
    }
}
