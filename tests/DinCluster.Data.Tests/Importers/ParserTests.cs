using DinCluster.Data.Importers;

namespace DinCluster.Data.Tests.Importers;

/// <summary>The importers' building blocks: string ids, split specs, CSV and JSON / Python-literal lines.</summary>
public sealed class ParserTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    [Theory]
    // expected values: h1 of MurmurHash3_x64_128 as a signed int64, from a reference implementation
    // (npm murmurhash3js-revisited 3.0.0, x64.hash128) = Python's mmh3.hash64(s)[0]
    [InlineData("foo", -2129773440516405919L)]
    [InlineData("The quick brown fox jumps over the lazy dog", -2068352364225029268L)]
    [InlineData("B00004ZCJE", 6515876636988349887L)]
    [InlineData("", 0L)]
    [InlineData("Électronique ü", 4569361988860634628L)]
    [InlineData("0123456789abcdefX", -3608559037187041545L)]
    [InlineData("Comedy", -7329733870675878651L)]
    public void StringIds_match_murmur3_x64_128_when_hashing_utf8_text(string text, long expected)
    {
        Assert.Equal(expected, StringIds.Of(text));
    }

    [Fact]
    public void StringIds_hash_long_strings_from_a_rented_buffer_when_they_exceed_the_stack_buffer()
    {
        var text = new string('a', 300) + "é";
        Assert.Equal(StringIds.Of(text), StringIds.Of(text.AsSpan()));
        Assert.NotEqual(StringIds.Of(text), StringIds.Of(text[..^1]));
    }

    [Theory]
    [InlineData("last-per-user", "last-per-user:1")]
    [InlineData("last-per-user:3", "last-per-user:3")]
    [InlineData("users:0.1", "users:0.1")]
    [InlineData("time:1500000000", "time:1500000000")]
    public void SplitSpec_parses_the_three_forms_when_well_formed(string text, string canonical)
    {
        Assert.Equal(canonical, SplitSpec.Parse(text).ToString());
    }

    [Theory]
    [InlineData("last-per-user:0", "K must be a whole number >= 1")]
    [InlineData("users:1.5", "between 0 and 1")]
    [InlineData("users", "between 0 and 1")]
    [InlineData("time:yesterday", "whole-number timestamp")]
    [InlineData("random", "must be last-per-user[:K], users:FRACTION or time:T")]
    public void SplitSpec_names_the_problem_when_malformed(string text, string message)
    {
        var e = Assert.Throws<ArgumentException>(() => SplitSpec.Parse(text));
        Assert.Contains(message, e.Message);
    }

    [Fact]
    public void SplitSpec_sends_about_the_fraction_of_users_to_test_when_splitting_by_users()
    {
        const ulong seed = 7;
        var test = Enumerable.Range(0, 100_000).Count(u => SplitSpec.IsTestUser(u, seed, 0.1));
        Assert.InRange(test, 9_700, 10_300);   // 0.1 +- 3 sigma (sigma ~ 95)
        var other = Enumerable.Range(0, 1000).Count(u => SplitSpec.IsTestUser(u, seed, 0.1) != SplitSpec.IsTestUser(u, seed + 1, 0.1));
        Assert.InRange(other, 100, 300);       // another seed picks other users (expected 180)
    }

    [Fact]
    public void CsvReader_splits_quoted_cells_and_numbers_lines_when_the_file_has_quotes_and_blank_lines()
    {
        var path = _dir.File("a.csv");
        File.WriteAllText(path, "movieId,title,genres\n11,\"American President, The (1995)\",Comedy|Drama\n\n12,\"Say \"\"Hi\"\"\",\n13,\"open,Drama\n");
        using var csv = new CsvReader(path);
        Assert.Equal(["movieId", "title", "genres"], csv.Header);

        Assert.True(csv.Read());
        Assert.Equal((2L, 3), (csv.LineNumber, csv.FieldCount));
        Assert.Equal("American President, The (1995)", csv[1].ToString());
        Assert.Equal("Comedy|Drama", csv[2].ToString());

        Assert.True(csv.Read());   // the blank line 3 is passed over
        Assert.Equal((4L, 3), (csv.LineNumber, csv.FieldCount));
        Assert.Equal("Say \"Hi\"", csv[1].ToString());
        Assert.Equal("", csv[2].ToString());

        Assert.True(csv.Read());
        Assert.Equal(5L, csv.LineNumber);
        Assert.Equal("cell 2 opens a quote that is not closed on this line", csv.Malformed);
        Assert.False(csv.Read());
    }

    [Fact]
    public void CsvReader_names_the_column_and_the_header_when_a_column_is_missing()
    {
        var path = _dir.File("a.csv");
        File.WriteAllText(path, "user,item\n1,2\n");
        using var csv = new CsvReader(path);
        var e = Assert.Throws<BadLineException>(() => csv.Column("timestamp", "the event time; --timestamp-column"));
        Assert.Equal($"{path}: line 1: header has no column 'timestamp' (the event time; --timestamp-column); the header is: user,item", e.Message);
    }

    [Fact]
    public void LiteralLine_reads_wanted_keys_when_the_line_is_a_python_dict_literal()
    {
        const string line = """{'asin': '0000031852', 'title': "Tom's \"Bag\"", 'price': 3.17, 'related': {'also_viewed': ('B1', 'B2'), 'x': [1, 2.5e3, -3]}, 'salesRank': None, 'ok': True, 'brand': u'Caf\xe9 \u00e9\n', 'categories': [['Sports & Outdoors', 'Other Sports', 'Dance'], ['Toys']]}""";
        var values = new Dictionary<string, object?>();
        Assert.True(new LiteralLine().TryRead(line, ["asin", "categories", "title", "brand", "price", "salesRank", "ok"], values, out var error), error);

        Assert.Equal("0000031852", values["asin"]);
        Assert.Equal("Tom's \"Bag\"", values["title"]);
        Assert.Equal("Café é\n", values["brand"]);
        Assert.Equal(3.17, values["price"]);
        Assert.Null(values["salesRank"]);
        Assert.Equal(true, values["ok"]);
        var paths = Assert.IsType<List<object?>>(values["categories"]);
        Assert.Equal(["Toys"], Assert.IsType<List<object?>>(paths[1]));
        Assert.False(values.ContainsKey("related"));
    }

    [Fact]
    public void LiteralLine_reads_wanted_keys_when_the_line_is_strict_json()
    {
        const string line = """{"reviewerID": "A2SUAM1J3GNN3B", "helpful": [0, 0], "reviewText": "I \"love\" it \u00e9 \/ done", "overall": 5.0, "unixReviewTime": 1393545600, "flag": false, "none": null}""";
        var values = new Dictionary<string, object?>();
        Assert.True(new LiteralLine().TryRead(line, ["reviewerID", "unixReviewTime", "reviewText"], values, out var error), error);
        Assert.Equal("A2SUAM1J3GNN3B", values["reviewerID"]);
        Assert.Equal(1393545600L, values["unixReviewTime"]);
        Assert.Equal("I \"love\" it é / done", values["reviewText"]);
    }

    [Theory]
    [InlineData("{'asin': 'B1', 'categories': [['a', 'b']]", "column 42: the line ends early")]
    [InlineData("{'asin': 'B1} ", "a string is not closed")]
    [InlineData("['not', 'a', 'dict']", "column 1: expected '{'")]
    [InlineData("{'asin': 'B1'} trailing", "text after the closing '}'")]
    [InlineData("{'asin': nope}", "unknown word 'nope'")]
    public void LiteralLine_says_where_when_the_line_is_malformed(string line, string message)
    {
        Assert.False(new LiteralLine().TryRead(line, ["asin", "categories"], new Dictionary<string, object?>(), out var error));
        Assert.Contains(message, error);
    }
}
