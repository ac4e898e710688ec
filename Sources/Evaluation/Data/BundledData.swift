/// Evaluation data bundled with lep, written by the lep authors (original text, no third-party
/// content), so that `lep eval MODEL` works with no data argument. Each file uses the documented
/// format (see `TaskData`), and `BundledData.files` lets the CLI export them as a template for the
/// user's own `--data DIR`.
public enum BundledData {
    /// The bundled files, by relative path (`en/text.txt`, `ru/mc_single_token.jsonl`, ...), in a fixed order.
    public static let files: [(path: String, contents: String)] = [
        ("en/text.txt", #"""
The lighthouse at the end of the pier was painted white, but the sea wind had turned it the colour of old paper. Every evening at half past six the keeper climbed the ninety-two steps, wiped the lens with a soft cloth and lit the lamp. He had done this for eleven years, and in all that time he had missed only one evening, when a storm tore the door from its hinges and he spent the night holding it shut with his back.

Nobody in the town remembered when the last ship had actually needed the light. The harbour had silted up, the fishing boats now left from the new port up the coast, and the ferry had stopped running before the keeper was born. Still, the council paid his small salary, and every spring a man from the ministry came to check that the lamp was clean and the log book was filled in.

The log book was the keeper's favourite object. On the left page he wrote the time the lamp was lit, the wind and the state of the sea. On the right page, which nobody had asked him to fill, he wrote what he had seen: a seal asleep on the rocks, a boy teaching his sister to skim stones, three swans flying so low that he could hear their wings. After eleven years the right-hand pages had become a kind of history of the town, told entirely from the top of a tower.

One autumn a young woman from the university asked if she could read the book. She was studying how the coast had changed, she said, and old records were hard to find. The keeper hesitated, then handed her the first volume. She came back every Saturday for a month, copying numbers into a notebook and laughing quietly at the swans.

In her report she thanked him by name. It was the first time, he said later, that anyone had written his name in a book that was not his own.
"""# + "\n"),
        ("ru/text.txt", #"""
Станция стояла посреди степи, и поезда останавливались на ней всего на две минуты. Начальник станции, Пётр Ильич, встречал каждый состав в форменной фуражке, хотя пассажиры почти никогда не выходили. Летом над платформой висела пыль, зимой её заметало так, что по утрам приходилось откапывать дверь деревянной лопатой.

При станции был маленький сад. Жена Петра Ильича посадила в нём яблони ещё в тот год, когда они приехали, и теперь деревья давали больше яблок, чем семья могла съесть. Осенью она раскладывала яблоки в корзины и выносила их к поезду. Проводники знали об этом и заранее открывали двери вагонов, а пассажиры протягивали из окон мелочь и пустые пакеты.

Однажды в ноябре поезд опоздал на четыре часа. Начальник станции сидел у печки, слушал, как ветер гремит железом на крыше, и каждые полчаса выходил на платформу с фонарём. Когда состав наконец показался, из последнего вагона вышел мальчик лет десяти с большим рюкзаком. Он сказал, что едет к бабушке в соседнее село, но перепутал станцию.

Ночь мальчик провёл на диване в служебной комнате. Жена Петра Ильича напоила его чаем с яблочным вареньем, а сам Пётр Ильич долго звонил по телефону, пока не нашёл бабушку. Утром за мальчиком приехал трактор: другой дороги через раскисшее поле не было.

Через много лет на станцию пришло письмо. Бывший мальчик писал, что стал машинистом и теперь водит поезда по этой линии. Проезжая мимо, он всегда даёт короткий гудок, и Пётр Ильич, уже совсем седой, поднимает в ответ фуражку.
"""# + "\n"),
        ("en/copy_text.txt", #"""
The kettle clicked off just as the rain began to fall. My grandmother kept her buttons in an old tin box. The box had a picture of a ship on its lid. On wet days we poured the buttons onto the table and sorted them by colour. The red ones were always the rarest. She said each button had come from a coat someone had loved.

The bus to the market leaves at half past eight. It stops at the bridge, the school and the post office. The driver knows most of the passengers by name. On Fridays the bus is full of baskets and bags. An old man always sits at the front with his dog. The dog never barks, even when the bus is late.

Our street has twelve houses and one tall chestnut tree. In autumn the children collect the chestnuts in their pockets. Nobody knows who planted the tree. Some say it is older than the street itself. Every spring a pair of blackbirds builds a nest in its branches. The neighbours argue about the leaves but never about the tree.

The library opens at nine and closes at six. Seven hundred books were returned on Monday morning. The librarian stamps each one and puts it on a trolley. Children's books go back to the shelves first. Heavy atlases wait until the afternoon. By evening the trolley is empty again.

Please close the gate behind you. The goats escape whenever they can. Last summer they ate half of the cabbages. The farmer built a higher fence, but they found a gap. Now the gate has a bell that rings when it opens. The goats have not learned how to silence it yet.

Her bicycle had a red basket and a silver bell. She rode it to work in every season. In winter she wore two scarves and thick gloves. In summer she took the long road past the lake. The rear light never worked, so she came home before dark. People in the village said they could set their clocks by her.

The recipe asks for two eggs and a cup of flour. Mix them slowly with a pinch of salt. Add warm milk until the batter is smooth. Let it rest for ten minutes while the pan heats. Pour a thin layer and wait for small bubbles. Turn the pancake once and serve it hot.

A quiet river can carry a lot of sand to the sea. Near the town it moves slowly between green fields. Fishermen sit on the bank from early morning. In spring the water rises and covers the lower meadows. The old mill by the river stopped working long ago. Now it is a small museum with a wooden wheel.

The train from the north arrived twelve minutes late. A woman with a large suitcase stepped onto the platform. She looked around for the exit and then for a taxi. The station clock showed a quarter past four. Outside, the snow had started to fall again. She pulled up her collar and walked towards the square.

Tom planted tomatoes in the small garden behind his house. He watered them every evening after work. In July the plants were taller than his daughter. The first tomato was small and very sweet. They shared it at dinner, cutting it into four pieces. By August there were more tomatoes than they could eat.

The museum has a room full of old clocks. Some of them are more than two hundred years old. Every hour they all strike at slightly different times. Visitors stand in the middle of the room and listen. A guard winds the clocks every Monday morning. He says the oldest one is also the most accurate.

Anna learned to swim when she was six years old. Her father taught her in the shallow end of the lake. At first she was afraid to put her face in the water. After a week she could swim to the wooden raft. Now she swims across the lake every summer. She still remembers how cold the water was that first day.

The baker opens his shop at dawn. By seven the shelves are full of warm bread. He sells rye loaves, white rolls and sweet buns. Students buy the buns on their way to class. At noon he lowers the prices of the morning bread. Whatever is left in the evening goes to the shelter.

Snow fell all night and covered the roads. In the morning the village was white and silent. Children ran outside with sledges and shovels. The school stayed closed, and nobody complained. By lunch there was a snowman in every yard. The largest one wore a bucket instead of a hat.

The small cafe on the corner has only five tables. Its owner makes the coffee himself and remembers every order. Regular customers leave notes on a board by the door. Some notes are jokes, and some are short poems. Once a week he reads the best one aloud. The winner gets a free cup of coffee.

My brother collects maps of places he has never visited. He keeps them in a long drawer under his bed. Each map has a pencil line along a road he would like to take. He says planning a journey is half the pleasure. Last year he finally travelled along one of the lines. He came back with a new map and a longer list.

The cat sleeps on the warm windowsill all afternoon. When the sun moves, she moves with it. In the evening she waits by the door for the children. She pretends not to care when they come home. Later she sits on the lap of whoever reads the longest. At night she disappears until breakfast.

The old bridge was built of grey stone. It has three arches and a narrow path for walkers. Carts crossed it for many years before cars arrived. Now only bicycles and pedestrians are allowed on it. On summer evenings couples stop in the middle to watch the river. The stones are still warm long after sunset.

The lighthouse keeper climbs ninety steps every evening. At the top he cleans the glass with a soft cloth. Then he lights the lamp and writes the time in a book. Ships rarely pass this part of the coast any more. Still, the light turns all night until the morning. In the book he also notes the wind and the birds.

The school concert was held in the old hall. Parents sat on small chairs meant for children. The choir sang three songs and forgot the words of one. A boy played the violin with his eyes closed. At the end everyone clapped for a long time. Afterwards there was tea and apple cake in the corridor.

We walked up the hill to see the sunrise. The path was steep and wet with dew. Halfway up we stopped to drink water and rest. At the top the wind was cold and strong. The sun came up slowly behind the distant forest. For a few minutes nobody said a single word.
"""# + "\n"),
        ("ru/copy_text.txt", #"""
Чайник выключился как раз тогда, когда начался дождь. Бабушка хранила пуговицы в старой жестяной коробке. На крышке коробки был нарисован корабль. В дождливые дни мы высыпали пуговицы на стол и раскладывали их по цвету. Красные пуговицы всегда попадались реже всего. Бабушка говорила, что каждая пуговица осталась от чьего-то любимого пальто.

Автобус на рынок уходит в половине девятого. Он останавливается у моста, у школы и у почты. Водитель знает почти всех пассажиров по имени. По пятницам автобус полон корзин и сумок. Впереди всегда сидит старик со своей собакой. Собака никогда не лает, даже если автобус опаздывает.

На нашей улице двенадцать домов и один высокий каштан. Осенью дети собирают каштаны в карманы. Никто не знает, кто посадил это дерево. Говорят, что оно старше самой улицы. Каждую весну в его ветвях вьют гнездо два дрозда. Соседи спорят о листьях, но никогда не спорят о дереве.

Библиотека открывается в девять и закрывается в шесть. В понедельник утром вернули семьсот книг. Библиотекарь ставит на каждую штамп и кладёт её на тележку. Детские книги первыми возвращаются на полки. Тяжёлые атласы ждут до обеда. К вечеру тележка снова пустеет.

Пожалуйста, закрывайте за собой калитку. Козы убегают при каждом удобном случае. Прошлым летом они съели половину капусты. Фермер поставил забор повыше, но они нашли дыру. Теперь на калитке висит колокольчик. Козы пока не научились заставлять его молчать.

У её велосипеда была красная корзинка и серебристый звонок. Она ездила на нём на работу в любое время года. Зимой она надевала два шарфа и толстые перчатки. Летом она ехала длинной дорогой мимо озера. Задний фонарь не работал, поэтому она возвращалась засветло. В деревне говорили, что по ней можно сверять часы.

Для блинов нужны два яйца и стакан муки. Медленно смешайте их со щепоткой соли. Добавляйте тёплое молоко, пока тесто не станет гладким. Пусть оно постоит десять минут, пока греется сковорода. Налейте тонкий слой и дождитесь маленьких пузырьков. Переверните блин один раз и подавайте горячим.

Тихая река уносит в море много песка. У города она медленно течёт среди зелёных полей. Рыбаки сидят на берегу с раннего утра. Весной вода поднимается и заливает нижние луга. Старая мельница у реки давно не работает. Теперь в ней маленький музей с деревянным колесом.

Поезд с севера пришёл с опозданием на двенадцать минут. На платформу вышла женщина с большим чемоданом. Она поискала глазами выход, а потом такси. Вокзальные часы показывали четверть пятого. На улице снова пошёл снег. Она подняла воротник и пошла к площади.

Том посадил помидоры в маленьком саду за домом. Он поливал их каждый вечер после работы. В июле кусты стали выше его дочери. Первый помидор был маленьким и очень сладким. Они разделили его за ужином на четыре части. К августу помидоров стало больше, чем они могли съесть.

В музее есть зал, полный старых часов. Некоторым из них больше двухсот лет. Каждый час они бьют в немного разное время. Посетители стоят посреди зала и слушают. Сторож заводит часы каждый понедельник утром. Он говорит, что самые старые часы идут точнее всех.

Анна научилась плавать, когда ей было шесть лет. Отец учил её на мелководье у озера. Сначала она боялась опускать лицо в воду. Через неделю она доплывала до деревянного плота. Теперь она каждое лето переплывает озеро. Она до сих пор помнит, какой холодной была вода в тот день.

Пекарь открывает свою лавку на рассвете. К семи часам полки уже полны тёплого хлеба. Он продаёт ржаной хлеб, белые булки и сладкие плюшки. Студенты покупают плюшки по дороге на занятия. В полдень он снижает цену на утренний хлеб. Всё, что остаётся к вечеру, он отдаёт в приют.

Всю ночь шёл снег и засыпал дороги. Утром деревня была белой и тихой. Дети выбежали на улицу с санками и лопатами. Школа была закрыта, и никто не жаловался. К обеду в каждом дворе стоял снеговик. Самый большой носил ведро вместо шляпы.

В маленьком кафе на углу всего пять столиков. Хозяин сам варит кофе и помнит каждый заказ. Постоянные гости оставляют записки на доске у двери. Одни записки шуточные, другие похожи на короткие стихи. Раз в неделю он читает вслух лучшую из них. Победитель получает чашку кофе бесплатно.

Мой брат собирает карты мест, где он никогда не был. Он хранит их в длинном ящике под кроватью. На каждой карте карандашом отмечена дорога, по которой он хотел бы проехать. Он говорит, что планировать путешествие уже половина удовольствия. В прошлом году он наконец проехал по одной из этих линий. Он вернулся с новой картой и ещё более длинным списком.

Кошка весь день спит на тёплом подоконнике. Когда солнце сдвигается, она сдвигается вместе с ним. Вечером она ждёт детей у двери. Она делает вид, что ей всё равно, когда они приходят. Потом она садится на колени к тому, кто дольше всех читает. Ночью она исчезает до самого завтрака.

Старый мост построен из серого камня. У него три арки и узкая дорожка для пешеходов. Много лет по нему ездили телеги, пока не появились машины. Теперь по мосту разрешено ходить только пешком и ездить на велосипеде. Летними вечерами пары останавливаются посередине, чтобы смотреть на реку. Камни остаются тёплыми ещё долго после заката.

Смотритель маяка каждый вечер поднимается на девяносто ступенек. Наверху он протирает стекло мягкой тряпкой. Потом он зажигает лампу и записывает время в книгу. Корабли теперь редко проходят у этого берега. И всё же свет вращается всю ночь до утра. В книге он отмечает ещё ветер и птиц.

Школьный концерт проходил в старом зале. Родители сидели на маленьких детских стульях. Хор спел три песни и забыл слова одной из них. Мальчик играл на скрипке с закрытыми глазами. В конце все долго хлопали. Потом в коридоре был чай с яблочным пирогом.

Мы поднялись на холм, чтобы увидеть восход. Тропинка была крутой и мокрой от росы. На полпути мы остановились попить воды и отдохнуть. На вершине дул холодный и сильный ветер. Солнце медленно вставало за далёким лесом. Несколько минут никто не произносил ни слова.
"""# + "\n"),
        ("en/mc_single_token.jsonl", #"""
{"id": "en-abcd-01", "prompt": "How many days are there in a leap year?\nA. 365\nB. 366\nC. 364\nD. 360\nAnswer with a single letter.", "choices": ["A", "B", "C", "D"], "answer": 1, "answer_prefix": "Answer:"}
{"id": "en-abcd-02", "prompt": "Which of these is a mammal?\nA. Shark\nB. Frog\nC. Whale\nD. Eagle\nAnswer with a single letter.", "choices": ["A", "B", "C", "D"], "answer": 2, "answer_prefix": "Answer:"}
{"id": "en-abcd-03", "prompt": "What do plants mainly take in from the air to make sugar?\nA. Oxygen\nB. Carbon dioxide\nC. Nitrogen\nD. Helium\nAnswer with a single letter.", "choices": ["A", "B", "C", "D"], "answer": 1, "answer_prefix": "Answer:"}
{"id": "en-abcd-04", "prompt": "What is 7 multiplied by 8?\nA. 54\nB. 56\nC. 64\nD. 48\nAnswer with a single letter.", "choices": ["A", "B", "C", "D"], "answer": 1, "answer_prefix": "Answer:"}
{"id": "en-abcd-05", "prompt": "Which direction does the sun rise in?\nA. East\nB. West\nC. North\nD. South\nAnswer with a single letter.", "choices": ["A", "B", "C", "D"], "answer": 0, "answer_prefix": "Answer:"}
{"id": "en-abcd-06", "prompt": "Water boils at sea level at what temperature in degrees Celsius?\nA. 90\nB. 50\nC. 100\nD. 120\nAnswer with a single letter.", "choices": ["A", "B", "C", "D"], "answer": 2, "answer_prefix": "Answer:"}
{"id": "en-abcd-07", "prompt": "Which word is the opposite of \"ancient\"?\nA. Old\nB. Modern\nC. Historic\nD. Broken\nAnswer with a single letter.", "choices": ["A", "B", "C", "D"], "answer": 1, "answer_prefix": "Answer:"}
{"id": "en-abcd-08", "prompt": "Which instrument has black and white keys?\nA. Violin\nB. Drum\nC. Flute\nD. Piano\nAnswer with a single letter.", "choices": ["A", "B", "C", "D"], "answer": 3, "answer_prefix": "Answer:"}
{"id": "en-abcd-09", "prompt": "If a shop opens at 9 and closes at 17, how many hours is it open?\nA. 6\nB. 7\nC. 8\nD. 9\nAnswer with a single letter.", "choices": ["A", "B", "C", "D"], "answer": 2, "answer_prefix": "Answer:"}
{"id": "en-abcd-10", "prompt": "Which of these is used to measure temperature?\nA. Thermometer\nB. Barometer\nC. Ruler\nD. Compass\nAnswer with a single letter.", "choices": ["A", "B", "C", "D"], "answer": 0, "answer_prefix": "Answer:"}
{"id": "en-abcd-11", "prompt": "What is the plural of \"mouse\"?\nA. Mouses\nB. Mice\nC. Mousen\nD. Meese\nAnswer with a single letter.", "choices": ["A", "B", "C", "D"], "answer": 1, "answer_prefix": "Answer:"}
{"id": "en-abcd-12", "prompt": "Which season follows spring?\nA. Winter\nB. Autumn\nC. Summer\nD. Spring\nAnswer with a single letter.", "choices": ["A", "B", "C", "D"], "answer": 2, "answer_prefix": "Answer:"}
{"id": "en-abcd-13", "prompt": "A triangle has how many sides?\nA. Two\nB. Three\nC. Four\nD. Five\nAnswer with a single letter.", "choices": ["A", "B", "C", "D"], "answer": 1, "answer_prefix": "Answer:"}
{"id": "en-abcd-14", "prompt": "Ice is the solid form of which substance?\nA. Salt\nB. Sand\nC. Water\nD. Glass\nAnswer with a single letter.", "choices": ["A", "B", "C", "D"], "answer": 2, "answer_prefix": "Answer:"}
{"id": "en-yesno-01", "prompt": "Is the following sentence grammatically correct? \"She have two brothers.\"\nAnswer \"Yes\" or \"No\".", "choices": ["Yes", "No"], "answer": 1, "answer_prefix": "Answer:"}
{"id": "en-yesno-02", "prompt": "Is the following sentence grammatically correct? \"They were tired after the long walk.\"\nAnswer \"Yes\" or \"No\".", "choices": ["Yes", "No"], "answer": 0, "answer_prefix": "Answer:"}
{"id": "en-yesno-03", "prompt": "Does the second sentence follow from the first? \"Tom locked the door and left.\" \"Tom left.\"\nAnswer \"Yes\" or \"No\".", "choices": ["Yes", "No"], "answer": 0, "answer_prefix": "Answer:"}
{"id": "en-yesno-04", "prompt": "Does the second sentence follow from the first? \"It rained all day.\" \"The streets stayed dry.\"\nAnswer \"Yes\" or \"No\".", "choices": ["Yes", "No"], "answer": 1, "answer_prefix": "Answer:"}
"""# + "\n"),
        ("ru/mc_single_token.jsonl", #"""
{"id": "ru-abcd-01", "prompt": "Сколько дней в високосном году?\nA. 365\nB. 366\nC. 364\nD. 360\nОтветь одной буквой.", "choices": ["A", "B", "C", "D"], "answer": 1, "answer_prefix": "Ответ:"}
{"id": "ru-abcd-02", "prompt": "Кто из перечисленных — млекопитающее?\nA. Акула\nB. Лягушка\nC. Кит\nD. Орёл\nОтветь одной буквой.", "choices": ["A", "B", "C", "D"], "answer": 2, "answer_prefix": "Ответ:"}
{"id": "ru-abcd-03", "prompt": "Какой газ растения поглощают из воздуха, чтобы образовать сахар?\nA. Кислород\nB. Углекислый газ\nC. Азот\nD. Гелий\nОтветь одной буквой.", "choices": ["A", "B", "C", "D"], "answer": 1, "answer_prefix": "Ответ:"}
{"id": "ru-abcd-04", "prompt": "Сколько будет семью восемь?\nA. 54\nB. 56\nC. 64\nD. 48\nОтветь одной буквой.", "choices": ["A", "B", "C", "D"], "answer": 1, "answer_prefix": "Ответ:"}
{"id": "ru-abcd-05", "prompt": "С какой стороны восходит солнце?\nA. С востока\nB. С запада\nC. С севера\nD. С юга\nОтветь одной буквой.", "choices": ["A", "B", "C", "D"], "answer": 0, "answer_prefix": "Ответ:"}
{"id": "ru-abcd-06", "prompt": "При какой температуре (в градусах Цельсия) кипит вода на уровне моря?\nA. 90\nB. 50\nC. 100\nD. 120\nОтветь одной буквой.", "choices": ["A", "B", "C", "D"], "answer": 2, "answer_prefix": "Ответ:"}
{"id": "ru-abcd-07", "prompt": "Какое слово противоположно по смыслу слову «древний»?\nA. Старый\nB. Современный\nC. Исторический\nD. Сломанный\nОтветь одной буквой.", "choices": ["A", "B", "C", "D"], "answer": 1, "answer_prefix": "Ответ:"}
{"id": "ru-abcd-08", "prompt": "У какого инструмента чёрные и белые клавиши?\nA. Скрипка\nB. Барабан\nC. Флейта\nD. Фортепиано\nОтветь одной буквой.", "choices": ["A", "B", "C", "D"], "answer": 3, "answer_prefix": "Ответ:"}
{"id": "ru-abcd-09", "prompt": "Магазин открывается в 9 и закрывается в 17. Сколько часов он работает?\nA. 6\nB. 7\nC. 8\nD. 9\nОтветь одной буквой.", "choices": ["A", "B", "C", "D"], "answer": 2, "answer_prefix": "Ответ:"}
{"id": "ru-abcd-10", "prompt": "Каким прибором измеряют температуру?\nA. Термометром\nB. Барометром\nC. Линейкой\nD. Компасом\nОтветь одной буквой.", "choices": ["A", "B", "C", "D"], "answer": 0, "answer_prefix": "Ответ:"}
{"id": "ru-abcd-11", "prompt": "Как правильно: множественное число слова «ухо»?\nA. Ухи\nB. Уши\nC. Ухов\nD. Ушей\nОтветь одной буквой.", "choices": ["A", "B", "C", "D"], "answer": 1, "answer_prefix": "Ответ:"}
{"id": "ru-abcd-12", "prompt": "Какое время года наступает после весны?\nA. Зима\nB. Осень\nC. Лето\nD. Весна\nОтветь одной буквой.", "choices": ["A", "B", "C", "D"], "answer": 2, "answer_prefix": "Ответ:"}
{"id": "ru-abcd-13", "prompt": "Сколько сторон у треугольника?\nA. Две\nB. Три\nC. Четыре\nD. Пять\nОтветь одной буквой.", "choices": ["A", "B", "C", "D"], "answer": 1, "answer_prefix": "Ответ:"}
{"id": "ru-abcd-14", "prompt": "Лёд — это твёрдое состояние какого вещества?\nA. Соли\nB. Песка\nC. Воды\nD. Стекла\nОтветь одной буквой.", "choices": ["A", "B", "C", "D"], "answer": 2, "answer_prefix": "Ответ:"}
{"id": "ru-yesno-01", "prompt": "Правильно ли построено предложение? «Она имеют двух братьев.»\nОтветь «Да» или «Нет».", "choices": ["Да", "Нет"], "answer": 1, "answer_prefix": "Ответ:"}
{"id": "ru-yesno-02", "prompt": "Правильно ли построено предложение? «После долгой прогулки они устали.»\nОтветь «Да» или «Нет».", "choices": ["Да", "Нет"], "answer": 0, "answer_prefix": "Ответ:"}
{"id": "ru-yesno-03", "prompt": "Следует ли второе утверждение из первого? «Том запер дверь и ушёл.» «Том ушёл.»\nОтветь «Да» или «Нет».", "choices": ["Да", "Нет"], "answer": 0, "answer_prefix": "Ответ:"}
{"id": "ru-yesno-04", "prompt": "Следует ли второе утверждение из первого? «Весь день шёл дождь.» «Улицы остались сухими.»\nОтветь «Да» или «Нет».", "choices": ["Да", "Нет"], "answer": 1, "answer_prefix": "Ответ:"}
"""# + "\n"),
        ("en/mc_continuation.jsonl", #"""
{"id": "en-cloze-01", "prompt": "The opposite of hot is", "choices": ["cold", "loud", "tall", "heavy"], "answer": 0}
{"id": "en-cloze-02", "prompt": "A person who flies an aeroplane is called a", "choices": ["pilot", "baker", "tailor", "farmer"], "answer": 0}
{"id": "en-cloze-03", "prompt": "You write on a blackboard with a piece of", "choices": ["chalk", "cheese", "glass", "rope"], "answer": 0}
{"id": "en-cloze-04", "prompt": "Bees make", "choices": ["honey", "milk", "silk", "wool"], "answer": 0}
{"id": "en-cloze-05", "prompt": "The capital of Italy is", "choices": ["Madrid", "Rome", "Vienna", "Lisbon"], "answer": 1}
{"id": "en-cloze-06", "prompt": "To cut paper you usually use", "choices": ["a spoon", "scissors", "a pillow", "a kettle"], "answer": 1}
{"id": "en-cloze-07", "prompt": "Fish breathe with their", "choices": ["gills", "wings", "ears", "feathers"], "answer": 0}
{"id": "en-cloze-08", "prompt": "The third month of the year is", "choices": ["January", "March", "May", "October"], "answer": 1}
"""# + "\n"),
        ("ru/mc_continuation.jsonl", #"""
{"id": "ru-cloze-01", "prompt": "Противоположность слова «горячий» — это", "choices": ["холодный", "громкий", "высокий", "тяжёлый"], "answer": 0}
{"id": "ru-cloze-02", "prompt": "Человек, который управляет самолётом, называется", "choices": ["пилот", "пекарь", "портной", "фермер"], "answer": 0}
{"id": "ru-cloze-03", "prompt": "На школьной доске обычно пишут", "choices": ["мелом", "сыром", "стеклом", "верёвкой"], "answer": 0}
{"id": "ru-cloze-04", "prompt": "Пчёлы делают", "choices": ["мёд", "молоко", "шёлк", "шерсть"], "answer": 0}
{"id": "ru-cloze-05", "prompt": "Столица Италии —", "choices": ["Мадрид", "Рим", "Вена", "Лиссабон"], "answer": 1}
{"id": "ru-cloze-06", "prompt": "Бумагу обычно режут", "choices": ["ложкой", "ножницами", "подушкой", "чайником"], "answer": 1}
{"id": "ru-cloze-07", "prompt": "Рыбы дышат с помощью", "choices": ["жабр", "крыльев", "ушей", "перьев"], "answer": 0}
{"id": "ru-cloze-08", "prompt": "Третий месяц года —", "choices": ["январь", "март", "май", "октябрь"], "answer": 1}
"""# + "\n"),
    ]

    /// The contents of one bundled file, or nil.
    public static func file(_ path: String) -> String? { files.first { $0.path == path }?.contents }

    /// The bundled languages.
    public static let languages = ["en", "ru"]
}
