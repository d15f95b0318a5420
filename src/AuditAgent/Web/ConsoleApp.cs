using System.Diagnostics;
using AuditAgent.Configuration;
using AuditAgent.Graph;
using AuditAgent.Storage;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.AspNetCore.Authentication.OpenIdConnect;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace AuditAgent.Web;

/// <summary>
/// The triage console: Razor Pages over the same services as the CLI, signed in with OpenID Connect
/// (Entra ID, or the simulator's look-alike in the demo and the tests), authorised by app roles.
/// </summary>
public static class ConsoleApp
{
    private static readonly string Css = ReadCss();

    public static IServiceCollection AddConsole(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<WebOptions>().Bind(configuration.GetSection(WebOptions.Section))
            .PostConfigure(o => ConfigurationShape.ApplyListValues(o, configuration.GetSection(WebOptions.Section)))
            .ValidateOnStart();
        services.AddSingleton<IValidateOptions<WebOptions>, WebOptionsValidator>();
        services.AddSingleton<IValidateOptions<WebOptions>, WebUrlsValidator>();
        services.AddSingleton<IValidateOptions<WebOptions>>(new ConfigurationShapeValidator<WebOptions>(configuration, WebOptions.Section));
        services.AddSingleton(new Hosting.OptionsSection(typeof(WebOptions), WebOptions.Section));
        services.AddSingleton<SignInSettings>();

        services.AddAuthentication(o =>
            {
                o.DefaultScheme = CookieAuthenticationDefaults.AuthenticationScheme;
                o.DefaultChallengeScheme = OpenIdConnectDefaults.AuthenticationScheme;
            })
            .AddCookie(o =>
            {
                o.Cookie.Name = "auditagent.session";
                o.Cookie.HttpOnly = true;
                o.Cookie.SameSite = SameSiteMode.Lax;
                o.Cookie.SecurePolicy = CookieSecurePolicy.SameAsRequest;
                o.ExpireTimeSpan = TimeSpan.FromHours(8);
                o.SlidingExpiration = true;
                o.Events.OnRedirectToAccessDenied = async context =>
                {
                    // A person without any console role is told whom to ask; anyone else asking for more is refused.
                    if (HttpMethods.IsGet(context.Request.Method) && !ConsoleRoles.HasAny(context.HttpContext.User))
                    {
                        context.Response.Redirect("/no-role");
                        return;
                    }

                    context.Response.StatusCode = StatusCodes.Status403Forbidden;
                    context.Response.ContentType = "text/plain; charset=utf-8";
                    await context.Response.WriteAsync("Forbidden: your role in AuditAgent does not allow this. Nothing was changed.");
                };
            })
            .AddOpenIdConnect()
            .AddJwtBearer(EventsApi.Scheme);
        services.AddOptions<OpenIdConnectOptions>(OpenIdConnectDefaults.AuthenticationScheme)
            .Configure<SignInSettings>((o, settings) => settings.Apply(o));
        services.AddOptions<JwtBearerOptions>(EventsApi.Scheme)
            .Configure<SignInSettings>((o, settings) => settings.Apply(o));
        // Behind a TLS proxy the request arrives over http: Web:PublicUrl says what people use, so cookies are Secure.
        services.AddOptions<CookieAuthenticationOptions>(CookieAuthenticationDefaults.AuthenticationScheme)
            .Configure<IOptions<WebOptions>>((o, web) => o.Cookie.SecurePolicy = IsHttps(web.Value) ? CookieSecurePolicy.Always : CookieSecurePolicy.SameAsRequest);
        services.AddOptions<Microsoft.AspNetCore.Antiforgery.AntiforgeryOptions>()
            .Configure<IOptions<WebOptions>>((o, web) => o.Cookie.SecurePolicy = IsHttps(web.Value) ? CookieSecurePolicy.Always : CookieSecurePolicy.SameAsRequest);

        services.AddAuthorization(o =>
        {
            foreach (var (policy, roles) in ConsoleRoles.Matrix)
            {
                o.AddPolicy(policy, p => p.RequireAuthenticatedUser().RequireRole(roles));
            }

            // Every page needs a signed-in person unless it says otherwise (health, the no-role page).
            o.FallbackPolicy = new AuthorizationPolicyBuilder().RequireAuthenticatedUser().Build();
        });
        services.AddRazorPages(o =>
            {
                o.RootDirectory = "/Web/Pages";
                o.Conventions.AuthorizeFolder("/", ConsoleRoles.Policies.View);
                o.Conventions.AuthorizePage("/Agents", ConsoleRoles.Policies.Admin);
                o.Conventions.AllowAnonymousToPage("/NoRole");
                o.Conventions.AllowAnonymousToPage("/SignInFailed");
                o.Conventions.AllowAnonymousToPage("/Answer"); // the signed link is the proof; sign-in only with Web:RequireSignInForMailActions
            })
            .AddApplicationPart(typeof(ConsoleApp).Assembly);
        services.AddAntiforgery(o =>
        {
            o.Cookie.Name = "auditagent.antiforgery";
            o.Cookie.SecurePolicy = CookieSecurePolicy.SameAsRequest;
            o.Cookie.SameSite = SameSiteMode.Strict;
        });
        return services;
    }

    public static WebApplication UseConsole(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        app.Use(SecurityHeadersAndRequestLog(app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("AuditAgent.Web.Requests")));
        app.UseAuthentication();
        app.UseAuthorization();

        app.MapGet("/healthz", () => Results.Json(new { status = "alive" })).AllowAnonymous();
        app.MapGet("/readyz", Readiness.CheckAsync).AllowAnonymous();
        if (app.Services.GetRequiredService<IOptions<Telemetry.TelemetryOptions>>().Value.Prometheus)
        {
            // Counts and durations only (no address, subject or incident): scraped without sign-in, like the probes.
            app.MapPrometheusScrapingEndpoint().AllowAnonymous();
        }

        app.MapGet("/api/v1/events", EventsApi.ListAsync).AllowAnonymous(); // its own key check: no cookie, no sign-in page
        app.MapGet("/console.css", () => Results.Text(Css, "text/css; charset=utf-8")).AllowAnonymous();
        app.MapPost("/signout", async (HttpContext context, Microsoft.AspNetCore.Antiforgery.IAntiforgery antiforgery) =>
        {
            await antiforgery.ValidateRequestAsync(context);
            await context.SignOutAsync(CookieAuthenticationDefaults.AuthenticationScheme);
            return Results.Redirect("/signed-out");
        });
        app.MapGet("/signed-out", () => Results.Text("You are signed out of the AuditAgent console.", "text/plain; charset=utf-8")).AllowAnonymous();
        app.MapRazorPages();
        return app;
    }

    /// <summary>
    /// The headers every answer carries (a CSP without inline script or style, no framing, no referrer)
    /// and one log line per request: method, route, status and duration, never a query string (it can hold
    /// a sender) or anything from a mailbox.
    /// </summary>
    private static Func<HttpContext, RequestDelegate, Task> SecurityHeadersAndRequestLog(ILogger log) => async (context, next) =>
    {
        var started = Stopwatch.GetTimestamp();
        context.Response.OnStarting(() =>
        {
            var h = context.Response.Headers;
            h.ContentSecurityPolicy = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; frame-ancestors 'none'; form-action 'self' " + FormActionSources(context) + "; base-uri 'none'; object-src 'none'";
            h.XContentTypeOptions = "nosniff";
            h.XFrameOptions = "DENY";
            h["Referrer-Policy"] = "no-referrer";
            h["Cross-Origin-Opener-Policy"] = "same-origin";
            if (context.Request.IsHttps || IsHttps(context.RequestServices.GetRequiredService<IOptions<WebOptions>>().Value))
            {
                h.StrictTransportSecurity = "max-age=31536000; includeSubDomains";
            }

            if (!h.ContainsKey("Cache-Control"))
            {
                h.CacheControl = "no-store";
            }

            return Task.CompletedTask;
        });
        try
        {
            await next(context);
        }
        finally
        {
            var route = (context.GetEndpoint() as Microsoft.AspNetCore.Routing.RouteEndpoint)?.RoutePattern.RawText ?? "(no route)";
            log.LogInformation("{Method} /{Route} {Status} in {Milliseconds:0} ms", context.Request.Method, route.TrimStart('/'), context.Response.StatusCode, Stopwatch.GetElapsedTime(started).TotalMilliseconds);
        }
    };

    /// <summary>
    /// The sign-in provider's origin: a form posted after the session expired is redirected there to sign in
    /// again, and browsers apply form-action to that redirect. Nothing when sign-in is not configured (the
    /// health endpoints still answer).
    /// </summary>
    private static string FormActionSources(HttpContext context)
    {
        try
        {
            return context.RequestServices.GetRequiredService<SignInSettings>().AuthorityOrigin;
        }
        catch (ExplainedException)
        {
            return "";
        }
    }

    /// <summary>People reach the console over https (Web:PublicUrl), whatever the last hop to this process is.</summary>
    internal static bool IsHttps(WebOptions web) => web.PublicUrl?.StartsWith("https://", StringComparison.OrdinalIgnoreCase) == true;

    private static string ReadCss()
    {
        using var stream = typeof(ConsoleApp).Assembly.GetManifestResourceStream("AuditAgent.Web.console.css")
            ?? throw new InvalidOperationException("console.css is not embedded");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }
}

/// <summary>The console's OpenID Connect settings, from Web:* with Graph:* as defaults (the same app registration).</summary>
public sealed class SignInSettings(IOptions<WebOptions> web, IOptions<GraphOptions> graph)
{
    public string Authority
    {
        get
        {
            if (web.Value.Authority is { Length: > 0 } authority)
            {
                return authority.TrimEnd('/');
            }

            var tenant = TenantId is { Length: > 0 } t ? t
                : throw new ExplainedException("Web:Authority or Graph:TenantId is required for the console's sign-in (Entra ID's https://login.microsoftonline.com/{tenant}/v2.0).");
            return $"{CloudEndpoints.For(graph.Value.Cloud).AuthorityHost.ToString().TrimEnd('/')}/{tenant}/v2.0";
        }
    }

    public string AuthorityOrigin => new Uri(Authority).GetLeftPart(UriPartial.Authority);

    /// <summary>The tenant whose people may sign in: the token's tid must be this one.</summary>
    public string? TenantId => graph.Value.TenantId is { Length: > 0 } t ? t : Environment.GetEnvironmentVariable("AZURE_TENANT_ID");

    /// <summary>The console's app registration: people sign in to it, and other applications call its API with tokens for it.</summary>
    public string ClientId => web.Value.ClientId is { Length: > 0 } id ? id : graph.Value.ClientId
        ?? throw new ExplainedException("Web:ClientId or Graph:ClientId is required for the console's sign-in.");

    /// <summary>
    /// App-only tokens for the events API (a SIEM's own app registration, granted the app role
    /// AuditAgent.EventsReader): issued by this tenant for the console's app (its client id or api://client id).
    /// Entra gives an API v1 tokens unless its manifest asks for v2, so both issuers are accepted.
    /// </summary>
    public void Apply(JwtBearerOptions o)
    {
        o.Authority = Authority;
        o.RequireHttpsMetadata = !new Uri(Authority).IsLoopback;
        o.MapInboundClaims = false;
        o.TokenValidationParameters.ValidAudiences = [ClientId, $"api://{ClientId}"];
        o.TokenValidationParameters.ValidIssuers = TenantId is { Length: > 0 } tenant ? [Authority, $"https://sts.windows.net/{tenant}/"] : [Authority];
        o.TokenValidationParameters.RoleClaimType = "roles";
        o.TokenValidationParameters.NameClaimType = "azp";
    }

    public void Apply(OpenIdConnectOptions o)
    {
        var w = web.Value;
        var g = graph.Value;
        o.Authority = Authority;
        o.RequireHttpsMetadata = !new Uri(Authority).IsLoopback;
        o.ClientId = ClientId;
        o.ClientSecret = Secret(w.ClientSecret, w.ClientSecretFile, "Web:ClientSecretFile") ?? Secret(g.ClientSecret, g.ClientSecretFile, "Graph:ClientSecretFile")
            ?? throw new ExplainedException("Web:ClientSecret (or Web:ClientSecretFile, or the Graph client secret) is required to redeem the console's sign-in codes.");
        o.ResponseType = "code";
        // The code comes back in the query of a GET: a form_post would need script on the provider page, and the
        // correlation cookie (SameSite=Lax) is not sent with a cross-site POST.
        o.ResponseMode = "query";
        // The code comes back as a top-level GET, so Lax is enough; and a console served over plain http on a
        // private network (not recommended) still signs in: Secure follows the request.
        o.CorrelationCookie.SameSite = SameSiteMode.Lax;
        o.CorrelationCookie.SecurePolicy = CookieSecurePolicy.SameAsRequest;
        o.NonceCookie.SameSite = SameSiteMode.Lax;
        o.NonceCookie.SecurePolicy = CookieSecurePolicy.SameAsRequest;
        if (ConsoleApp.IsHttps(w))
        {
            o.CorrelationCookie.SecurePolicy = CookieSecurePolicy.Always;
            o.NonceCookie.SecurePolicy = CookieSecurePolicy.Always;
        }

        // The provider sends people back to the address they use (Web:PublicUrl), never to the Host a proxy forwarded.
        o.Events.OnRedirectToIdentityProvider = context =>
        {
            if (w.PublicUrl is { Length: > 0 } publicUrl)
            {
                context.ProtocolMessage.RedirectUri = publicUrl.TrimEnd('/') + o.CallbackPath;
            }

            return Task.CompletedTask;
        };
        o.UsePkce = true;
        o.Scope.Clear();
        o.Scope.Add("openid");
        o.Scope.Add("profile");
        o.MapInboundClaims = false;
        o.SaveTokens = false;
        o.GetClaimsFromUserInfoEndpoint = false;
        o.CallbackPath = "/signin-oidc";
        o.TokenValidationParameters.NameClaimType = "preferred_username";
        o.TokenValidationParameters.RoleClaimType = "roles";
        o.TokenValidationParameters.ValidateIssuer = true;
        o.TokenValidationParameters.ValidAudience = o.ClientId;
        o.Events.OnTokenValidated = context =>
        {
            var tid = context.Principal?.FindFirst("tid")?.Value;
            if (TenantId is { Length: > 0 } tenant && Guid.TryParse(tenant, out _) && !string.Equals(tid, tenant, StringComparison.OrdinalIgnoreCase))
            {
                context.Fail($"the token is from tenant {tid}, not {tenant}");
            }

            return Task.CompletedTask;
        };
        o.Events.OnRemoteFailure = context =>
        {
            // A refused token (audience, issuer, tenant, signature, expiry) ends on a page that says so; no cookie is issued.
            context.Response.Redirect("/sign-in-failed");
            context.HandleResponse();
            return Task.CompletedTask;
        };
    }

    /// <summary>As the Graph credential reads its secret (a mounted file wins; one that cannot be read is an error, not a fallback).</summary>
    private static string? Secret(string? value, string? file, string fileKey) =>
        CredentialFactory.ReadSecret(value, file, fileKey) is { Length: > 0 } secret ? secret : null;
}
