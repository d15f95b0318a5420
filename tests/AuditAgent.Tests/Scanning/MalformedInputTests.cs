using System.Text.Json.Nodes;
using AuditAgent.Simulator;
using AuditAgent.Tests.Support;

namespace AuditAgent.Tests.Scanning;

/// <summary>What real mailboxes contain: recipients without addresses, odd case, IDN, wrong JSON types.</summary>
public class MalformedInputTests
{
    private static JsonObject Recipient(string? address, string? name = "Someone")
    {
        var email = new JsonObject { ["name"] = name };
        if (address is not null)
        {
            email["address"] = address;
        }

        return new JsonObject { ["emailAddress"] = email };
    }

    private static JsonArray Externals(int count, string domain = "fabrikam.com", string prefix = "c") =>
        [.. Enumerable.Range(0, count).Select(i => (JsonNode)Recipient($"{prefix}{i}@{domain}"))];

    private static JsonObject Message(string id, JsonNode? to, JsonNode? cc = null, JsonNode? bcc = null, string? sent = null)
    {
        var sentAt = sent ?? DateTimeOffset.UtcNow.AddDays(-1).ToString("yyyy-MM-ddTHH:mm:ssZ", System.Globalization.CultureInfo.InvariantCulture);
        return new JsonObject
        {
            ["id"] = id,
            ["subject"] = "Subject " + id,
            ["sentDateTime"] = sentAt,
            ["receivedDateTime"] = sentAt,
            ["internetMessageId"] = $"<{id}@contoso.com>",
            ["from"] = Recipient("sender@contoso.com", "Sender"),
            ["toRecipients"] = to,
            ["ccRecipients"] = cc ?? new JsonArray(),
            ["bccRecipients"] = bcc ?? new JsonArray(),
        };
    }

    internal static SimTenant TenantWith(params JsonObject[] messages) => TenantFile.Parse(new JsonObject
    {
        ["domains"] = new JsonArray(new JsonObject { ["id"] = "contoso.com", ["isVerified"] = true, ["isDefault"] = true }),
        ["users"] = new JsonArray(new JsonObject
        {
            ["id"] = "u-sender",
            ["displayName"] = "Sender",
            ["mail"] = "sender@contoso.com",
            ["userPrincipalName"] = "sender@contoso.com",
            ["accountEnabled"] = true,
            ["sentItems"] = new JsonArray([.. messages]),
        }),
    });

    [Fact]
    public async Task Scan_MalformedMessagesAndRecipients_AreCountedAndTheRestOfTheMailboxIsScanned()
    {
        var oddRecipients = Externals(8);
        oddRecipients.Add(Recipient(null, "No address"));
        oddRecipients.Add(Recipient("", "Empty"));
        oddRecipients.Add(Recipient("not-an-address"));
        oddRecipients.Add(new JsonObject { ["emailAddress"] = null });
        oddRecipients.Add(Recipient("C0@FABRIKAM.COM", "Duplicate in caps"));
        oddRecipients.Add(Recipient("jürgen@bücher.de", "IDN"));
        oddRecipients.Add(Recipient("jürgen@xn--bcher-kva.de", "IDN again, in punycode"));
        oddRecipients.Add(Recipient("zoë@gmail.com", "Unicode local part"));
        var noSentDate = Message("m6-no-sent-date", Externals(10, "litwareinc.com"));
        noSentDate.Remove("sentDateTime");
        var tenant = TenantWith(
            Message("m1-exposure-before", Externals(12)),
            Message("m2-wrong-type", JsonValue.Create("everyone@fabrikam.com")),
            new JsonObject { ["subject"] = "no id at all", ["toRecipients"] = Externals(20) },
            Message("m3-odd-recipients", oddRecipients),
            Message("m4-null-recipient-lists", null, null, null),
            Message("m5-thousand", Externals(1000, "adatum.com")),
            noSentDate,
            Message("m7-exposure-after", Externals(10, "proseware.com")));
        await using var agent = await AgentHarness.StartAsync(tenant, settings: new Dictionary<string, string?> { ["Graph:PageSize"] = "3" });

        var summary = await agent.ScanAsync();

        Assert.Equal("succeeded", summary.Status);
        Assert.Equal(2, summary.MalformedMessages);
        Assert.Equal(6, summary.Messages);
        Assert.True(summary.UnresolvableRecipients >= 4);
        var findings = (await agent.FindingsAsync()).ToDictionary(f => f.GraphMessageId);
        Assert.Equal(["m1-exposure-before", "m3-odd-recipients", "m5-thousand", "m6-no-sent-date", "m7-exposure-after"], findings.Keys.Order());
        // 8 distinct + one IDN address written two ways + a Unicode local part = 10.
        Assert.Equal(10, findings["m3-odd-recipients"].VisibleExternalCount);
        Assert.Equal(1000, findings["m5-thousand"].VisibleExternalCount);
    }
}
