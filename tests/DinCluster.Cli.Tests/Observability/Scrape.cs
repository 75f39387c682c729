using System.Globalization;
using System.Text.RegularExpressions;

namespace DinCluster.Cli.Tests.Observability;

/// <summary>One scrape of a Prometheus text endpoint: samples by metric name and label text.</summary>
public sealed partial class Scrape
{
    private readonly List<(string Name, string Labels, double Value)> _samples = [];

    private Scrape(string text)
    {
        Text = text;
        foreach (var line in text.Split('\n'))
        {
            if (line.Length == 0 || line.StartsWith('#')) continue;
            var m = SampleLine().Match(line);
            if (!m.Success) throw new FormatException($"not a Prometheus sample line: '{line}'");
            _samples.Add((m.Groups[1].Value, m.Groups[3].Value, double.Parse(m.Groups[4].Value, CultureInfo.InvariantCulture)));
        }
    }

    public string Text { get; }

    public static async Task<Scrape> Get(int port)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(30) };
        using var response = await http.GetAsync($"http://127.0.0.1:{port}/metrics");
        response.EnsureSuccessStatusCode();
        Assert.StartsWith("text/plain", response.Content.Headers.ContentType?.ToString(), StringComparison.Ordinal);
        return new Scrape(await response.Content.ReadAsStringAsync());
    }

    /// <summary>Sum over the series of <paramref name="name"/> whose labels contain every given "k=\"v\"".</summary>
    public double Sum(string name, params string[] labels) =>
        _samples.Where(s => s.Name == name && labels.All(l => s.Labels.Contains(l, StringComparison.Ordinal))).Sum(s => s.Value);

    public int Series(string name) => _samples.Count(s => s.Name == name);

    [GeneratedRegex(@"^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (\S+)$")]
    private static partial Regex SampleLine();
}
