using System.Globalization;
using DinCluster.Data.Importers;

namespace DinCluster.Data.Tests.Importers;

/// <summary>On the committed fixture: 406 ratings of 20 MovieLens users (Fixtures/movielens, with its licence).</summary>
public sealed class MovieLensImporterTests : IDisposable
{
    private readonly TempDir _dir = new();
    private readonly string _fixture = ImportedData.Fixture("movielens");

    public void Dispose() => _dir.Dispose();

    private string Out => _dir.File("out");

    [Fact]
    public void MovieLens_follows_the_DIN_protocol_when_importing_the_fixture()
    {
        var report = MovieLensImporter.Run(Path.Combine(_fixture, "ratings.csv"), Path.Combine(_fixture, "movies.csv"), ImportedData.Options(Out), new StringWriter());

        // the protocol written out plainly: rating >= 4 positive, category = first genre, users:0.1 split
        var genre = File.ReadLines(Path.Combine(_fixture, "movies.csv")).Skip(1)
            .ToDictionary(l => long.Parse(l[..l.IndexOf(',')], CultureInfo.InvariantCulture), l => l[(l.LastIndexOf(',') + 1)..].Split('|')[0]);
        var events = File.ReadLines(Path.Combine(_fixture, "ratings.csv")).Skip(1).Select((l, k) =>
        {
            var c = l.Split(',');
            var movie = long.Parse(c[1], CultureInfo.InvariantCulture);
            var rating = double.Parse(c[2], CultureInfo.InvariantCulture);
            return new EventOracle.Event(long.Parse(c[0], CultureInfo.InvariantCulture), movie, StringIds.Of(genre[movie]),
                long.Parse(c[3], CultureInfo.InvariantCulture), rating >= 4 ? 1 : 0, k + 2);
        }).ToList();
        var (train, test) = EventOracle.Samples(events, new SplitSpec.Users(0.1), seed: 1);

        Assert.Equal(test, ImportedData.Lines(Out, "test"));
        Assert.Equal(train, ImportedData.Lines(Out, "train"));
        Assert.NotEmpty(test);
        Assert.Equal((406L + 323L, 20L, 323L), (report.RowsRead, report.Users, report.Items));
        Assert.Equal(210L, report.Train.Positives + report.Test.Positives);
        Assert.Equal(20L, report.Train.Users + report.Test.Users);   // users split: each user on one side
        Assert.Equal("users:0.1", report.Split);

        var vocab = File.ReadAllLines(Path.Combine(Out, "vocab", "categories.tsv"));
        Assert.Equal("id\tname", vocab[0]);
        Assert.Contains($"{StringIds.Of("Comedy")}\tComedy", vocab);
        Assert.Equal(report.Categories, vocab.Length - 1);
    }

    [Fact]
    public void MovieLens_counts_ratings_of_unknown_movies_when_skip()
    {
        var ratings = _dir.File("ratings.csv");
        File.WriteAllLines(ratings, ["userId,movieId,rating,timestamp", "1,1,4.0,10", "1,999999,5.0,11", "1,2,x,12", "1,3,2.5,13"]);
        var movies = _dir.File("movies.csv");
        File.WriteAllLines(movies, ["movieId,title,genres", "1,\"Toy Story, The (1995)\",Adventure|Animation", "2,Jumanji (1995),Adventure", "3,Heat (1995),(no genres listed)"]);

        var e = Assert.Throws<BadLineException>(() => MovieLensImporter.Run(ratings, movies, ImportedData.Options(Out, new SplitSpec.LastPerUser(1)), new StringWriter()));
        Assert.Equal($"{ratings}: line 3: movieId 999999 is not in {movies}", e.Message);

        var report = MovieLensImporter.Run(ratings, movies, ImportedData.Options(Out, new SplitSpec.LastPerUser(1), BadInputPolicy.Skip), new StringWriter());
        Assert.Equal(new Dictionary<string, long> { ["unknown_item"] = 1, ["not_a_number"] = 1 }, report.SkippedByReason);
        Assert.Equal(["u=1 i=1 c=" + StringIds.Of("Adventure") + " h=[] hc=[] y=1 t=10"], ImportedData.Lines(Out, "train"));
        Assert.Equal(["u=1 i=3 c=" + StringIds.Of("(no genres listed)") + " h=[1] hc=[" + StringIds.Of("Adventure") + "] y=0 t=13"], ImportedData.Lines(Out, "test"));
    }
}
