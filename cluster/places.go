package cluster

import "strings"

// demonyms maps the adjective or people-word of a country or region, folded,
// to its name, folded: "Lithuanian premier quits" and "Lithuania's
// government falls" name one place. The second word of a two-word name
// carries it ("South Korean" is "south" and "korea"), as the name's own
// words do.
var demonyms = func() map[string]string {
	m := map[string]string{}
	for _, line := range strings.Split(strings.TrimSpace(`
afghanistan afghan
albania albanian
algeria algerian
angola angolan
argentina argentine argentinian argentinean
armenia armenian
australia australian aussie
austria austrian
azerbaijan azerbaijani azeri
bahrain bahraini
bangladesh bangladeshi
belarus belarusian belarussian
belgium belgian
bolivia bolivian
bosnia bosnian
brazil brazilian
britain british briton britons
bulgaria bulgarian
cambodia cambodian
cameroon cameroonian
canada canadian
chile chilean
china chinese
colombia colombian
congo congolese
croatia croatian
cuba cuban
cyprus cypriot
czechia czech
denmark danish dane
ecuador ecuadorian ecuadorean
egypt egyptian
england english
estonia estonian
ethiopia ethiopian
europe european
finland finnish finn
france french frenchman
georgia georgian
germany german
ghana ghanaian
greece greek
guatemala guatemalan
haiti haitian
honduras honduran
hungary hungarian
iceland icelandic icelander
india indian
indonesia indonesian
iran iranian
iraq iraqi
ireland irish
israel israeli
italy italian
jamaica jamaican
japan japanese
jordan jordanian
kazakhstan kazakh kazakhstani
kenya kenyan
korea korean
kosovo kosovar
kuwait kuwaiti
kyrgyzstan kyrgyz
laos laotian
latvia latvian
lebanon lebanese
libya libyan
lithuania lithuanian
luxembourg luxembourgish
madagascar malagasy
malawi malawian
malaysia malaysian
mali malian
malta maltese
mexico mexican
moldova moldovan
mongolia mongolian
montenegro montenegrin
morocco moroccan
mozambique mozambican
myanmar burmese
namibia namibian
nepal nepali nepalese
netherlands dutch
zealand zealander
nicaragua nicaraguan
niger nigerien
nigeria nigerian
norway norwegian
oman omani
pakistan pakistani
palestine palestinian
panama panamanian
paraguay paraguayan
peru peruvian
philippines filipino philippine
poland polish pole
portugal portuguese
qatar qatari
romania romanian
russia russian
rwanda rwandan
saudi saudis
scotland scottish scot
senegal senegalese
serbia serbian serb
singapore singaporean
slovakia slovak slovakian
slovenia slovenian slovene
somalia somali
spain spanish spaniard
lanka lankan
sudan sudanese
sweden swedish swede
switzerland swiss
syria syrian
taiwan taiwanese
tajikistan tajik
tanzania tanzanian
thailand thai
tunisia tunisian
turkey turkish turk
turkmenistan turkmen
uganda ugandan
ukraine ukrainian
uruguay uruguayan
uzbekistan uzbek
venezuela venezuelan
vietnam vietnamese
wales welsh
yemen yemeni
zambia zambian
zimbabwe zimbabwean
`), "\n") {
		words := strings.Fields(line)
		for _, w := range words[1:] {
			m[w] = words[0]
		}
	}
	return m
}()

// place returns the name of the country a folded word is the adjective of,
// or the word itself.
func place(folded string) string {
	if c, ok := demonyms[folded]; ok {
		return c
	}
	return folded
}
