using AuditAgent.Graph;

namespace AuditAgent.Tests.Graph;

public class SentItemsReaderTests
{
    [Theory]
    [InlineData("https://graph.microsoft.com/v1.0", "6e5b0f3a-0c1d-4a7e-9f00-1b2c3d4e5f60")]
    [InlineData("http://127.0.0.1:5123/v1.0", "user with spaces/and+signs")]
    public void FirstPageUrl_IsWhatTheSdkBuilds(string baseUrl, string mailboxId)
    {
        var since = new DateTimeOffset(2026, 10, 31, 12, 0, 0, TimeSpan.FromHours(1));
        var client = GraphClientFactory.Create(new GraphOptions { BaseUrl = baseUrl, AccessToken = "token" });
        var sdk = client.Users[mailboxId].MailFolders["sentitems"].Messages.Delta.ToGetRequestInformation(rc =>
        {
            rc.QueryParameters.Select = SentItemsReader.Properties;
            rc.QueryParameters.Filter = $"receivedDateTime ge {since.UtcDateTime:yyyy-MM-ddTHH:mm:ssZ}";
        });

        Assert.Equal(sdk.URI.AbsoluteUri, new Uri(SentItemsReader.FirstPageUrl(baseUrl, mailboxId, since)).AbsoluteUri);
    }
}
