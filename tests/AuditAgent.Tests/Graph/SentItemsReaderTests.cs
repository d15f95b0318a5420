using AuditAgent.Graph;
using Microsoft.Kiota.Http.HttpClientLibrary.Middleware;

namespace AuditAgent.Tests.Graph;

public class SentItemsReaderTests
{
    /// <summary>
    /// The reader writes the first page's URL itself and skips the SDK's name-decoding handler for it: the URL must be
    /// the one the SDK would have sent, its request builder's URL after that very handler ("%24select" to "$select").
    /// </summary>
    [Theory]
    [InlineData("https://graph.microsoft.com/v1.0", "6e5b0f3a-0c1d-4a7e-9f00-1b2c3d4e5f60")]
    [InlineData("http://127.0.0.1:5123/v1.0", "user with spaces/and+signs")]
    public async Task FirstPageUrl_IsWhatTheSdkSends(string baseUrl, string mailboxId)
    {
        var since = new DateTimeOffset(2026, 10, 31, 12, 0, 0, TimeSpan.FromHours(1));
        var client = GraphClientFactory.Create(new GraphOptions { BaseUrl = baseUrl, AccessToken = "token" });
        var sdk = client.Users[mailboxId].MailFolders["sentitems"].Messages.Delta.ToGetRequestInformation(rc =>
        {
            rc.QueryParameters.Select = SentItemsReader.Properties;
            rc.QueryParameters.Filter = $"receivedDateTime ge {since.UtcDateTime:yyyy-MM-ddTHH:mm:ssZ}";
        });

        var seen = new Seen();
        using var decoding = new HttpMessageInvoker(new ParametersNameDecodingHandler { InnerHandler = seen });
        using var request = new HttpRequestMessage(HttpMethod.Get, sdk.URI);
        using var response = await decoding.SendAsync(request, CancellationToken.None);

        Assert.Contains("&$select=", seen.Url, StringComparison.Ordinal);
        Assert.Equal(seen.Url, new Uri(SentItemsReader.FirstPageUrl(baseUrl, mailboxId, since)).AbsoluteUri);
    }

    /// <summary>Where the request would have left for Graph: what it holds by then.</summary>
    private sealed class Seen : HttpMessageHandler
    {
        public string? Url { get; private set; }

        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            Url = request.RequestUri!.AbsoluteUri;
            return Task.FromResult(new HttpResponseMessage(System.Net.HttpStatusCode.OK));
        }
    }
}
