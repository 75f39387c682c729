using DinCluster.Cluster.Observability;

namespace DinCluster.Cluster.Tests.Observability;

public sealed class MetricsRegistryTests
{
    [Fact]
    public void Registry_renders_counters_gauges_and_cumulative_histograms_in_prometheus_text_format()
    {
        var registry = new MetricsRegistry();
        registry.Counter("din_steps_total", "Steps", ("node", "a:1"), ("actor", "worker-0")).Add(5);
        registry.Counter("din_steps_total", "Steps", ("node", "a:1"), ("actor", "worker-0")).Increment();
        registry.Gauge("din_ps_rows", "Rows", ("node", "a:1"), ("shard", "0")).Set(12.5);
        var h = registry.Histogram("din_step_seconds", "Step", [0.01, 0.1, 1], ("node", "a:1"));
        foreach (var v in new[] { 0.005, 0.05, 0.05, 0.5, 3.0 }) h.Observe(v);

        var lines = registry.Render().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(
        [
            "# HELP din_ps_rows Rows",
            "# TYPE din_ps_rows gauge",
            "din_ps_rows{node=\"a:1\",shard=\"0\"} 12.5",
            "# HELP din_step_seconds Step",
            "# TYPE din_step_seconds histogram",
            "din_step_seconds_bucket{node=\"a:1\",le=\"0.01\"} 1",
            "din_step_seconds_bucket{node=\"a:1\",le=\"0.1\"} 3",
            "din_step_seconds_bucket{node=\"a:1\",le=\"1\"} 4",
            "din_step_seconds_bucket{node=\"a:1\",le=\"+Inf\"} 5",
            "din_step_seconds_sum{node=\"a:1\"} 3.605",
            "din_step_seconds_count{node=\"a:1\"} 5",
            "# HELP din_steps_total Steps",
            "# TYPE din_steps_total counter",
            "din_steps_total{node=\"a:1\",actor=\"worker-0\"} 6",
        ], lines);
    }

    [Fact]
    public void Registry_escapes_label_values_and_drops_a_nodes_series_when_asked()
    {
        var registry = new MetricsRegistry();
        registry.Gauge("g", "help", ("node", "a\"b\\c\nd")).Set(1);
        registry.Gauge("g", "help", ("node", "other")).Set(2);
        Assert.Contains("g{node=\"a\\\"b\\\\c\\nd\"} 1", registry.Render(), StringComparison.Ordinal);
        registry.RemoveSeries("node", "a\"b\\c\nd");
        var text = registry.Render();
        Assert.DoesNotContain("a\\\"b", text, StringComparison.Ordinal);
        Assert.Contains("g{node=\"other\"} 2", text, StringComparison.Ordinal);
    }

    [Fact]
    public void Registry_runs_collectors_before_rendering_and_refuses_a_name_reused_with_another_type()
    {
        var registry = new MetricsRegistry();
        var scrapes = 0;
        registry.AddCollector(this, () => registry.Gauge("scrapes", "scrapes seen").Set(++scrapes));
        Assert.Contains("scrapes 1", registry.Render(), StringComparison.Ordinal);
        Assert.Contains("scrapes 2", registry.Render(), StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => registry.Counter("scrapes", "x"));
    }

    [Fact]
    public async Task Metrics_server_answers_http_get_with_the_registry_text_when_started_on_a_free_port()
    {
        var registry = new MetricsRegistry();
        registry.Counter("din_samples_trained_total", "samples", ("node", "n:1")).Add(42);
        using var server = MetricsServer.Start(0, registry);
        using var http = new HttpClient();
        using var response = await http.GetAsync($"http://127.0.0.1:{server.Port}/metrics");
        Assert.Equal(System.Net.HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/plain; version=0.0.4; charset=utf-8", response.Content.Headers.ContentType!.ToString());
        Assert.Contains("din_samples_trained_total{node=\"n:1\"} 42", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }
}
