package web

import (
	"fmt"
	"strconv"
)

// The charts are SVG drawn on the server: bars as <rect> elements whose
// colours come from the stylesheet (classes c0…c7), each with a <title>
// that says what it counts. No script draws anything.

const (
	chartW      = 640
	chartH      = 160
	chartLeft   = 32
	chartBottom = 22
	chartTop    = 8
	palette     = 8
)

// series is one rule's counts per day.
type series struct {
	Name   string
	Counts []int
	Total  int
}

func seriesOf(name string, counts []int) series {
	s := series{Name: name, Counts: counts}
	for _, c := range counts {
		s.Total += c
	}
	return s
}

// chart is a drawn bar chart.
type chart struct {
	W, H   int
	Bars   []bar
	Labels []label
	Ticks  []label
	Legend []legendItem
	Max    int
	Total  int
	// Summary says what the chart shows, for screen readers.
	Summary string
}

type bar struct {
	X, Y, W, H int
	Class      string
	Title      string
}

type label struct {
	X, Y int
	Text string
}

type legendItem struct {
	Class string
	Name  string
	Total int
}

// stackedChart draws one stacked bar per day, a segment per series.
func stackedChart(days []string, ss []series) chart {
	c := chart{W: chartW, H: chartH}
	totals := make([]int, len(days))
	for _, s := range ss {
		for i, n := range s.Counts {
			if i < len(totals) {
				totals[i] += n
			}
		}
	}
	for _, t := range totals {
		c.Max = max(c.Max, t)
		c.Total += t
	}
	plotH := chartH - chartBottom - chartTop
	slot := (chartW - chartLeft) / max(len(days), 1)
	barW := max(slot*7/10, 2)
	scale := func(n int) int {
		if c.Max == 0 {
			return 0
		}
		return n * plotH / c.Max
	}
	for i, day := range days {
		x := chartLeft + i*slot + (slot-barW)/2
		y := chartTop + plotH
		for k, s := range ss {
			if i >= len(s.Counts) || s.Counts[i] == 0 {
				continue
			}
			h := max(scale(s.Counts[i]), 1)
			y -= h
			c.Bars = append(c.Bars, bar{X: x, Y: y, W: barW, H: h, Class: "c" + strconv.Itoa(k%palette),
				Title: fmt.Sprintf("%s, %s: %d", s.Name, day, s.Counts[i])})
		}
		if len(days) <= 16 || i%(len(days)/8+1) == 0 {
			c.Labels = append(c.Labels, label{X: x + barW/2, Y: chartH - 6, Text: day[5:]})
		}
	}
	c.Ticks = []label{{X: chartLeft - 4, Y: chartTop + 4, Text: strconv.Itoa(c.Max)}, {X: chartLeft - 4, Y: chartTop + plotH, Text: "0"}}
	for k, s := range ss {
		c.Legend = append(c.Legend, legendItem{Class: "c" + strconv.Itoa(k%palette), Name: s.Name, Total: s.Total})
	}
	c.Summary = fmt.Sprintf("%d alerts over %d days, at most %d on one day", c.Total, len(days), c.Max)
	return c
}
