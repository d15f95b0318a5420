using AuditAgent.Core.Incidents;

namespace AuditAgent.Tests.Incidents;

public class DomainRulesTests
{
    [Theory]
    [InlineData("RE: Price list", "price list")]
    [InlineData("Re: RE: fw: Price   list ", "price list")]
    [InlineData("AW: WG: Price list", "price list")]
    [InlineData("RE[2]: Price list", "price list")]
    [InlineData("FWD:Price list", "price list")]
    [InlineData("Recent price list", "recent price list")]
    [InlineData(null, "")]
    public void SubjectKey_IgnoresReplyAndForwardPrefixesCaseAndSpacing(string? subject, string expected)
    {
        Assert.Equal(expected, SubjectKey.Of(subject));
    }

    [Theory]
    [InlineData("fabrikam.com", "fabrikam.com")]
    [InlineData("eu.fabrikam.com", "fabrikam.com")]
    [InlineData("mail.eu.fabrikam.com", "fabrikam.com")]
    [InlineData("fabrikam.co.uk", "fabrikam.co.uk")]
    [InlineData("sales.fabrikam.co.uk", "fabrikam.co.uk")]
    [InlineData("shop.fabrikam.com.au", "fabrikam.com.au")]
    [InlineData("nhs.uk", "nhs.uk")]
    public void Organisations_SubdomainsBelongToOneOrganisation(string domain, string organisation)
    {
        Assert.Equal(organisation, Organisations.Of(domain));
    }

    [Theory]
    [InlineData("gmail.com", true)]
    [InlineData("hotmail.co.uk", true)]
    [InlineData("hotmail.de", true)]
    [InlineData("yahoo.com", true)]
    [InlineData("mail.hotmail.evil.example", false)]
    [InlineData("gmail.com.evil.example", false)]
    [InlineData("fabrikam.com", false)]
    public void ConsumerDomains_MatchExactAndAnySuffixPatterns(string domain, bool consumer)
    {
        var list = ConsumerDomains.Parse("# comment\ngmail.com\nhotmail.*   # any suffix\nyahoo.*\n");

        Assert.Equal(consumer, list.Contains(domain));
    }

    [Fact]
    public void ConsumerDomains_ShippedList_CoversTheIssuesExamples()
    {
        var list = ConsumerDomains.Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "consumer-domains.txt")));

        foreach (var domain in new[] { "gmail.com", "outlook.com", "hotmail.fr", "live.co.uk", "yahoo.co.jp", "icloud.com", "me.com", "aol.com", "gmx.net", "web.de", "proton.me", "protonmail.com", "mail.ru", "yandex.ru", "qq.com", "163.com" })
        {
            Assert.True(list.Contains(domain), domain);
        }
    }

    [Fact]
    public void Allowlist_ExpiredEntriesDoNotMatch_SubdomainsDo()
    {
        var now = DateTimeOffset.UtcNow;
        var allowlist = new Allowlist(
            [
                new AllowlistEntry(1, AllowlistKind.Domain, "adatum.com", "dpo", "partner", now.AddDays(-10), null),
                new AllowlistEntry(2, AllowlistKind.Domain, "litwareinc.com", "dpo", "old partner", now.AddDays(-10), now.AddDays(-1)),
                new AllowlistEntry(3, AllowlistKind.Sender, "Mailer@Contoso.com", "dpo", "bulk platform", now, now.AddDays(1)),
            ],
            now);

        Assert.NotNull(allowlist.Domain("eu.adatum.com"));
        Assert.Null(allowlist.Domain("notadatum.com"));
        Assert.Null(allowlist.Domain("litwareinc.com"));
        Assert.NotNull(allowlist.Sender("mailer@contoso.com"));
    }
}
