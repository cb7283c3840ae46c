import Testing
@testable import RegionWatchCollectors

@Suite("Exposition parser")
struct ExpositionParserTests {
    let parser = ExpositionParser()

    @Test func commentsTypesLabelsAndTimestamps() {
        let document = parser.parse(
            """
            # HELP http_requests_total The total number of HTTP requests.
            # TYPE http_requests_total counter
            http_requests_total{method="post",code="200"} 1027 1395066363000
            http_requests_total{method="post",code="400"}    3 1395066363000

            # a free comment
            metric_without_timestamp_and_labels 12.47
            """)
        #expect(document.errors.isEmpty)
        #expect(document.types["http_requests_total"] == .counter)
        #expect(document.samples.count == 3)
        #expect(
            document.samples[0]
                == ExpositionSample(
                    name: "http_requests_total",
                    labels: [ExpositionLabel("method", "post"), ExpositionLabel("code", "200")], value: 1027,
                    timestampMilliseconds: 1_395_066_363_000))
        #expect(document.samples[1].value == 3)
        #expect(document.samples[2] == ExpositionSample(name: "metric_without_timestamp_and_labels", value: 12.47))
    }

    @Test func escapesInLabelValues() {
        let document = parser.parse(
            #"msdos_file_access_time_seconds{path="C:\\DIR\\FILE.TXT",error="Cannot find file:\n\"FILE.TXT\""} 1.458255915e9"#
                + "\n")
        #expect(document.errors.isEmpty)
        #expect(document.samples.first?.label("path") == #"C:\DIR\FILE.TXT"#)
        #expect(document.samples.first?.label("error") == "Cannot find file:\n\"FILE.TXT\"")
        #expect(document.samples.first?.value == 1.458255915e9)
    }

    @Test func nanAndInfinities() {
        let document = parser.parse("a NaN\nb +Inf\nc -Inf\nd 1e-3\n")
        #expect(document.errors.isEmpty)
        #expect(document.samples[0].value.isNaN)
        #expect(document.samples[1].value == .infinity)
        #expect(document.samples[2].value == -.infinity)
        #expect(document.samples[3].value == 0.001)
    }

    @Test func histogramAndSummaryFamilies() {
        let document = parser.parse(
            """
            # TYPE http_request_duration_seconds histogram
            http_request_duration_seconds_bucket{le="0.05"} 24054
            http_request_duration_seconds_bucket{le="0.1"} 33444
            http_request_duration_seconds_bucket{le="+Inf"} 144320
            http_request_duration_seconds_sum 53423
            http_request_duration_seconds_count 144320
            # TYPE rpc_duration_seconds summary
            rpc_duration_seconds{quantile="0.99"} 76656
            rpc_duration_seconds_sum 1.7560473e+07
            rpc_duration_seconds_count 2693
            """)
        #expect(document.errors.isEmpty)
        #expect(document.types["http_request_duration_seconds"] == .histogram)
        #expect(document.samples.count == 8)
        #expect(
            ExpositionParser.familyName(of: "http_request_duration_seconds_bucket") == "http_request_duration_seconds")
    }

    @Test func openMetricsWithExemplarsAndEOF() {
        let document = parser.parse(
            """
            # TYPE foo counter
            # UNIT foo seconds
            foo_total 17.0 1520879607.789 # {trace_id="KOO5S4vxi0o"} 0.67
            foo_created 1520430000.123
            # EOF
            """)
        #expect(document.errors.isEmpty)
        #expect(document.sawEOF)
        #expect(document.samples[0].value == 17)
        #expect(document.samples[0].timestampMilliseconds == 1_520_879_607_789)
    }

    @Test func malformedLinesAreRejectedWithTheirNumberAndTheRestKept() {
        let document = parser.parse(
            """
            good 1
            bad{label="x" 2
            bad2{label=unquoted} 3
            bad3 notanumber
            9starts_with_digit 1
            bad4{le="1",le="2"} 1
            bad5{x="\\q"} 1
            also_good{a="b"} 2
            bad6 1 notatimestamp
            # TYPE weird nonsense
            """)
        #expect(document.samples.map(\.name) == ["good", "also_good"])
        #expect(document.rejectedLines == 8)
        #expect(document.errors.map(\.line) == [2, 3, 4, 5, 6, 7, 9, 10])
        #expect(document.errors[0].description == "line 2: expected , or } after label label, found '2'")
        #expect(document.errors[1].message == "value of label label is not quoted")
        #expect(document.errors[2].message == "value of bad3 is not a number")
        #expect(document.errors[3].message == "expected a metric name, found '9'")
        #expect(document.errors[4].message == "label le given twice")
        #expect(document.errors[5].message == "invalid escape \\q in label x")
        #expect(document.errors[6].message == "timestamp of bad6 is not a number")
        #expect(document.errors[7].message == "# TYPE weird: unknown type 'nonsense'")
    }

    @Test func duplicateSeriesKeepTheFirst() {
        let document = parser.parse("a{x=\"1\",y=\"2\"} 1\na{y=\"2\",x=\"1\"} 2\n")
        #expect(document.samples.map(\.value) == [1])
        #expect(document.errors.first?.message == "duplicate series a{y=\"2\",x=\"1\"}")
    }

    @Test func truncatedInputKeepsWhatWasComplete() {
        let full = "a 1\nb{x=\"long value\"} 2\n"
        let truncated = String(full.prefix(14))
        let document = parser.parse(truncated)
        #expect(document.samples.map(\.name) == ["a"])
        #expect(document.errors.first?.message == "value of label x not closed with \"")
    }

    @Test func hostileInputIsBounded() {
        var limits = ExpositionParser.Limits()
        limits.maxLineBytes = 100
        limits.maxSamples = 3
        limits.maxLabels = 2
        let bounded = ExpositionParser(limits: limits)
        let longLine = "x{a=\"" + String(repeating: "v", count: 500) + "\"} 1"
        let document = bounded.parse(
            [longLine, "m{a=\"1\",b=\"2\",c=\"3\"} 1", "s1 1", "s2 1", "s3 1", "s4 1"].joined(separator: "\n"))
        #expect(document.samples.map(\.name) == ["s1", "s2", "s3"])
        #expect(
            document.errors.map(\.message) == [
                "line longer than 100 bytes", "more than 2 labels", "more than 3 samples",
            ])
        // Binary garbage and invalid UTF-8 never crash and are counted.
        let garbage: [UInt8] = [
            0xFF, 0xFE, 0x00, 0x0A, 0x61, 0x7B, 0x62, 0x3D, 0x22, 0xC3, 0x28, 0x22, 0x7D, 0x20, 0x31, 0x0A,
        ]
        let mangled = parser.parse(garbage)
        #expect(mangled.samples.isEmpty)
        #expect(mangled.rejectedLines == 2)
        #expect(mangled.errors[1].message == "value of label b is not valid UTF-8")
        // Errors kept are bounded; every rejected line is still counted.
        let many = parser.parse(String(repeating: "bad line here\n", count: 500))
        #expect(many.rejectedLines == 500)
        #expect(many.errors.count == ExpositionParser.Limits.keptErrors)
    }

    @Test func familyFilterSkipsOtherMetrics() {
        let filtered = ExpositionParser(families: ["wanted"])
        let document = filtered.parse("other 1\nwanted_bucket{le=\"1\"} 2\nwanted 3\nbroken{ 4\n")
        #expect(document.samples.map(\.name) == ["wanted_bucket", "wanted"])
    }

    @Test func contentAfterEOFIsRejected() {
        let document = parser.parse("a 1\n# EOF\nb 2\n")
        #expect(document.samples.map(\.name) == ["a"])
        #expect(document.errors.first?.message == "content after # EOF")
    }
}
