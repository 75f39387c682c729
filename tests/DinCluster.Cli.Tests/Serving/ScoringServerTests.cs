using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using DinCluster.Cli.Tests.Support;
using DinCluster.Cluster.Checkpoints;
using DinCluster.Cluster.Serving;
using Xunit.Abstractions;

namespace DinCluster.Cli.Tests.Serving;

/// <summary>The scoring server over real HTTP on a free loopback port, checked against `dincluster predict`.</summary>
[Collection(TorchCollection.Name)]
public sealed class ScoringServerTests(TrainedModel model, ITestOutputHelper output) : IClassFixture<TrainedModel>, IDisposable
{
    private readonly TempDir _out = new();
    private readonly HttpClient _http = new() { Timeout = TimeSpan.FromSeconds(30) };

    public void Dispose()
    {
        _http.Dispose();
        _out.Dispose();
    }

    [Fact]
    public async Task Server_answers_single_and_batch_requests_with_the_scores_predict_writes()
    {
        var predictions = _out.File("pred.csv");
        Assert.Equal(0, Program.Main(["predict", "--model", model.Run, "--data", model.Data, "--out", predictions]));
        var expected = TrainedModel.ReadPredictions(predictions);
        await using var server = await StartAsync();

        // single samples, including the unseen-id, empty-history and over-maxlen ones at the end
        foreach (var i in new[] { 0, 1, 2, model.TestSamples.Count - 4, model.TestSamples.Count - 3, model.TestSamples.Count - 2, model.TestSamples.Count - 1 })
        {
            var (status, body) = await PostAsync(server, TrainedModel.Json(model.TestSamples[i]).ToJsonString());
            Assert.Equal(HttpStatusCode.OK, status);
            var p = body["probability"]!.GetValue<float>();
            Assert.True(Math.Abs(p - expected[i].Score) <= 1e-6, $"sample {i}: served {p}, predict wrote {expected[i].Score}");
        }

        // one batch of 64
        var batch = new JsonArray(model.TestSamples.Take(64).Select(s => (JsonNode)TrainedModel.Json(s)).ToArray());
        var (batchStatus, batchBody) = await PostAsync(server, batch.ToJsonString());
        Assert.Equal(HttpStatusCode.OK, batchStatus);
        var served = batchBody["probabilities"]!.AsArray().Select(n => n!.GetValue<float>()).ToArray();
        Assert.Equal(64, served.Length);
        for (var i = 0; i < served.Length; i++)
            Assert.True(Math.Abs(served[i] - expected[i].Score) <= 1e-6, $"batch sample {i}: served {served[i]}, predict wrote {expected[i].Score}");
        Assert.Equal(8, server.Requests);
        Assert.Equal(7 + 64, server.Samples);
    }

    [Fact]
    public async Task Server_answers_400_naming_the_field_when_a_request_is_bad()
    {
        await using var server = await StartAsync();
        var good = TrainedModel.Json(model.TestSamples[0]);

        var missing = good.DeepClone().AsObject();
        missing.Remove("category_id");
        var text = good.DeepClone().AsObject();
        text["hist_item_id"] = new JsonArray(1, "seven", 3);
        var unequal = good.DeepClone().AsObject();
        unequal["hist_item_id"] = new JsonArray(1, 2, 3);
        unequal["hist_category_id"] = new JsonArray(1);
        var typo = good.DeepClone().AsObject();
        typo["shop"] = 3;
        var batch = new JsonArray(good.DeepClone(), good.DeepClone(), missing.DeepClone());

        var cases = new (string Body, string Error)[]
        {
            (missing.ToJsonString(), "category_id: missing"),
            (text.ToJsonString(), "hist_item_id[1]: is a string, must be an integer id (int64)"),
            (unequal.ToJsonString(), "hist_item_id: has 3 ids, hist_category_id has 1; paired histories must have equal lengths"),
            (typo.ToJsonString(), "shop: unknown field"),
            (batch.ToJsonString(), "[2].category_id: missing"),
            ("{\"user_id\": 1,", "body is not valid JSON"),
            ("[]", "the array holds no samples"),
            ("42", "body is a number, must be an object"),
        };
        foreach (var (body, error) in cases)
        {
            var (status, answer) = await PostAsync(server, body);
            var message = answer["error"]?.GetValue<string>() ?? "";
            output.WriteLine($"{status}: {message}");
            Assert.Equal(HttpStatusCode.BadRequest, status);
            Assert.StartsWith(error, message);
        }
        Assert.Equal(cases.Length, server.BadRequests);

        // the server still scores after bad requests
        var (okStatus, _) = await PostAsync(server, good.ToJsonString());
        Assert.Equal(HttpStatusCode.OK, okStatus);
    }

    [Fact]
    public async Task Server_reports_health_and_refuses_other_routes()
    {
        await using var server = await StartAsync();

        using var health = await _http.GetAsync(new Uri(server.Address, "health"));
        Assert.Equal(HttpStatusCode.OK, health.StatusCode);
        var body = JsonNode.Parse(await health.Content.ReadAsStringAsync())!;
        output.WriteLine(body.ToJsonString());
        Assert.Equal("ok", body["status"]!.GetValue<string>());
        Assert.Equal(2, body["scorers"]!.GetValue<int>());
        Assert.Contains("hist_item_id", body["features"]!.AsArray().Select(n => n!.GetValue<string>()));

        // HttpListener matches the Host header: the loopback server answers to localhost as well
        using var byName = await _http.GetAsync(new Uri($"http://localhost:{server.Address.Port}/health"));
        Assert.Equal(HttpStatusCode.OK, byName.StatusCode);

        using var get = await _http.GetAsync(new Uri(server.Address, "predict"));
        Assert.Equal(HttpStatusCode.MethodNotAllowed, get.StatusCode);
        using var other = await _http.GetAsync(new Uri(server.Address, "nothing"));
        Assert.Equal(HttpStatusCode.NotFound, other.StatusCode);
    }

    /// <summary>A server on a free loopback port (asked of the OS; retried if another process takes it first).</summary>
    private Task<ScoringServerHandle> StartAsync()
    {
        var scorer = ModelScorer.FromCheckpoint(ModelCheckpoint.Load(ModelCheckpoint.Resolve(model.Run)), scorers: 2, UnseenIds.Init);
        for (var attempt = 1; ; attempt++)
        {
            var probe = new TcpListener(IPAddress.Loopback, 0);
            probe.Start();
            var port = ((IPEndPoint)probe.LocalEndpoint).Port;
            probe.Stop();
            var server = new ScoringServer(scorer, "127.0.0.1", port);
            try
            {
                server.Start();
                output.WriteLine($"serving on {server.Address}");
                return Task.FromResult(new ScoringServerHandle(server, scorer));
            }
            catch (InvalidOperationException e) when (attempt < 3)
            {
                output.WriteLine($"port {port} was taken ({e.Message}); trying another");
            }
        }
    }

    private async Task<(HttpStatusCode Status, JsonNode Body)> PostAsync(ScoringServerHandle server, string json)
    {
        using var content = new StringContent(json, Encoding.UTF8, "application/json");
        using var response = await _http.PostAsync(new Uri(server.Address, "predict"), content);
        var text = await response.Content.ReadAsStringAsync();
        return (response.StatusCode, JsonNode.Parse(text) ?? throw new JsonException($"empty answer ({response.StatusCode})"));
    }

    private sealed class ScoringServerHandle(ScoringServer server, ModelScorer scorer) : IAsyncDisposable
    {
        public Uri Address => server.Address;
        public long Requests => server.Requests;
        public long Samples => server.Samples;
        public long BadRequests => server.BadRequests;

        public async ValueTask DisposeAsync()
        {
            await server.DisposeAsync();
            scorer.Dispose();
        }
    }
}
