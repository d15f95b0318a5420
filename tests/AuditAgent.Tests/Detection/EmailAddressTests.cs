using AuditAgent.Core.Detection;

namespace AuditAgent.Tests.Detection;

public class EmailAddressTests
{
    [Theory]
    [InlineData("Ann.Lee@Fabrikam.COM", "ann.lee@fabrikam.com")]
    [InlineData("  ann@fabrikam.com  ", "ann@fabrikam.com")]
    [InlineData("<ann@fabrikam.com>", "ann@fabrikam.com")]
    [InlineData("SMTP:ann@fabrikam.com", "ann@fabrikam.com")]
    [InlineData("mailto:ann@fabrikam.com", "ann@fabrikam.com")]
    [InlineData("jürgen@bücher.de", "jürgen@xn--bcher-kva.de")]
    [InlineData("ann@fabrikam.com.", "ann@fabrikam.com")]
    public void TryParse_UsableAddress_Normalises(string raw, string expected)
    {
        Assert.True(EmailAddress.TryParse(raw, out var address));
        Assert.Equal(expected, address.Value);
    }

    [Fact]
    public void TryParse_UnicodeAndPunycodeDomain_AreTheSameAddress()
    {
        Assert.True(EmailAddress.TryParse("ann@bücher.de", out var unicode));
        Assert.True(EmailAddress.TryParse("ANN@xn--bcher-kva.de", out var ascii));
        Assert.Equal(unicode, ascii);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("   ")]
    [InlineData("undisclosed-recipients")]
    [InlineData("@fabrikam.com")]
    [InlineData("ann@")]
    [InlineData("ann@localhost")]
    [InlineData("ann lee@fabrikam.com")]
    [InlineData("ann@fab rikam.com")]
    [InlineData("/o=ExchangeLabs/ou=Exchange Administrative Group (FYDIBOHF23SPDLT)/cn=Recipients/cn=abc")]
    [InlineData("ann@@fabrikam.com")]
    [InlineData("ann\u0007@fabrikam.com")]
    public void TryParse_NotAnAddress_IsRejected(string? raw)
    {
        Assert.False(EmailAddress.TryParse(raw, out _));
    }

    /// <summary>The fast path's test of "already normal" (UTF-8, no string made): the '@' where it is, or -1 for the full parser.</summary>
    [Theory]
    [InlineData("ann.lee@fabrikam.com", 7)]
    [InlineData("a+b_c'd&e=f-g@mail.fabrikam.co.uk", 13)]
    [InlineData("a@b-c.d", 1)]
    [InlineData("Ann@fabrikam.com", -1)] // upper case: the parser lower-cases it
    [InlineData("ann@Fabrikam.com", -1)]
    [InlineData(" ann@fabrikam.com", -1)]
    [InlineData("ann@fabrikam.com ", -1)]
    [InlineData("ann@@fabrikam.com", -1)]
    [InlineData("ann@fab@rikam.com", -1)]
    [InlineData("@fabrikam.com", -1)]
    [InlineData("ann@", -1)]
    [InlineData("ann", -1)]
    [InlineData("", -1)]
    [InlineData("ann@localhost", -1)] // a domain needs a dot
    [InlineData("ann@.fabrikam.com", -1)]
    [InlineData("ann@fabrikam..com", -1)]
    [InlineData("ann@fabrikam.com.", -1)]
    [InlineData("ann@fab_rikam.com", -1)] // '_' only before the '@'
    [InlineData("jürgen@fabrikam.com", -1)] // not ASCII
    [InlineData("ann@bücher.de", -1)]
    [InlineData("ann..lee@fabrikam.com", 8)] // the parser leaves a local part's dots as they are
    public void CanonicalAt_OnlyAddressesAlreadyNormal_GiveTheirAt(string utf8, int at)
    {
        Assert.Equal(at, EmailAddress.CanonicalAt(System.Text.Encoding.UTF8.GetBytes(utf8)));
        if (at >= 0)
        {
            Assert.True(EmailAddress.TryParse(utf8, out var parsed));
            Assert.Equal(utf8, parsed.Value);
        }
    }
}
